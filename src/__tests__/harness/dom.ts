/**
 * Waiting for and driving the DOM in jsdom specs. Reaches no server, so specs
 * using only this run without the servers.
 */

/**
 * Resolve with what `find` returns once it is truthy, checking again on every
 * DOM change (React renders, dialogs opening); reject after `ms`.
 */
export function waitFor<T>(
  find: () => T | null | undefined | false,
  what: string,
  ms = 20000
): Promise<T> {
  return new Promise((resolve, reject) => {
    const found = find();
    if (found) {
      resolve(found);
      return;
    }
    const observer = new MutationObserver(() => {
      const value = find();
      if (value) {
        observer.disconnect();
        clearTimeout(timer);
        resolve(value);
      }
    });
    const timer = setTimeout(() => {
      observer.disconnect();
      reject(new Error(`Timed out waiting for ${what}`));
    }, ms);
    observer.observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true
    });
  });
}

/**
 * Type into an input or pick an option the way React notices: the value goes
 * through the native setter, then the event a browser fires.
 */
export function enter(
  control: HTMLInputElement | HTMLSelectElement,
  value: string
): void {
  const proto = Object.getPrototypeOf(control);
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(control, value);
  const event = control instanceof HTMLSelectElement ? 'change' : 'input';
  control.dispatchEvent(new Event(event, { bubbles: true }));
}
