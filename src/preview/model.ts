/**
 * The state of one table preview: loading, the server's answer, or its
 * error. No DOM; the view follows `changed`.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type { IPreview, PreviewSource } from './api';

/** Where a preview is in its life. */
export type PreviewState = 'loading' | 'ready' | 'error';

/**
 * One preview. The fetch function is a parameter, so the model runs in
 * Node against the real server or anything else that answers like it.
 */
export class PreviewModel {
  /**
   * @param source - what to preview, or `null` when the path names nothing
   *   the preview can read (the error says so); may be a promise, e.g. when
   *   the S3 roots are still loading
   * @param fetch - asks the server for the preview of a source
   * @param describe - the user-facing name of the source, for messages
   */
  constructor(
    source: PreviewSource | null | Promise<PreviewSource | null>,
    private readonly _fetch: (source: PreviewSource) => Promise<IPreview>,
    readonly describe: string
  ) {
    this._source = Promise.resolve(source);
  }

  /** Emitted whenever `state`, `preview` or `error` changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get state(): PreviewState {
    return this._state;
  }

  /** The server's answer once `state` is `ready`. */
  get preview(): IPreview | null {
    return this._preview;
  }

  /** What went wrong once `state` is `error`: the server's message. */
  get error(): string {
    return this._error;
  }

  /** The column names, in order (empty until ready). */
  get columns(): string[] {
    return (this._preview?.schema ?? []).map(field => field.name);
  }

  /**
   * Ask the server (again). Resolves when the answer is in; a failure ends
   * in the `error` state, it does not reject.
   */
  async load(): Promise<void> {
    const ticket = ++this._ticket;
    this._set('loading', null, '');
    const source = await this._source;
    if (ticket !== this._ticket || this._disposed) {
      return;
    }
    if (source === null) {
      this._set(
        'error',
        null,
        `${this.describe}: only files of the S3 browser and of the local file browser can be previewed`
      );
      return;
    }
    try {
      const preview = await this._fetch(source);
      if (ticket === this._ticket && !this._disposed) {
        this._set('ready', preview, '');
      }
    } catch (error) {
      if (ticket === this._ticket && !this._disposed) {
        this._set('error', null, (error as Error).message || String(error));
      }
    }
  }

  /** Stop emitting; an answer still on its way is dropped. */
  dispose(): void {
    this._disposed = true;
    Signal.clearData(this);
  }

  private _set(
    state: PreviewState,
    preview: IPreview | null,
    error: string
  ): void {
    this._state = state;
    this._preview = preview;
    this._error = error;
    this._changed.emit();
  }

  private _source: Promise<PreviewSource | null>;
  private _changed = new Signal<this, void>(this);
  private _state: PreviewState = 'loading';
  private _preview: IPreview | null = null;
  private _error = '';
  private _ticket = 0;
  private _disposed = false;
}
