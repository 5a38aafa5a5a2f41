/**
 * A DOM for specs that run in Node. They run in Node because they reach the
 * real servers: jsdom's jest environment has no `fetch`, and the AWS SDK's
 * browser build does not load there. JupyterLab's document context still
 * needs a DOM at import time, so one is made here with jsdom (what jest's
 * jsdom environment uses) and its globals are set. Import this module first.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { JSDOM } = require('jsdom');

const scope = globalThis as Record<string, unknown>;
if (scope.document === undefined) {
  const { window } = new JSDOM('<!doctype html><html><body></body></html>', {
    pretendToBeVisual: true, // requestAnimationFrame, which Lumino uses
    url: 'http://localhost/'
  });
  // Its timers would keep jest from exiting.
  afterAll(() => window.close());
  scope.window = window;
  for (const name of Object.getOwnPropertyNames(window)) {
    if (!(name in scope) && !name.startsWith('_')) {
      try {
        scope[name] = window[name];
      } catch {
        // a getter jsdom does not let us read outside its window
      }
    }
  }
  // What JupyterLab's own jest set-up adds to jsdom (DragEvent, …).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@jupyterlab/testing/lib/jest-shim.js');
}
export {};
