/**
 * What the credentials widget shows: the server's status, the state the user
 * sees, and a live countdown. Plain state, signals and a poll; no DOM.
 */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import {
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { type ISignal, Signal } from '@lumino/signaling';

import type {
  CredentialState,
  ICredentialIdentity,
  ICredentialsAPI,
  ICredentialStatus
} from './api';

/**
 * Below this many seconds left, valid keys show as `expiring`.
 */
export const EXPIRING_SECONDS = 10 * 60;

/**
 * Below this many seconds left, the countdown ticks every second.
 */
export const SECOND_TICKS_BELOW = 2 * 60;

/**
 * Default seconds between status polls; keep in sync with
 * `schema/credentials.json`.
 */
export const DEFAULT_POLL_SECONDS = 60;

/**
 * The caller identity as STS `GetCallerIdentity` reports it, live.
 */
export interface ICallerIdentity {
  /** Caller ARN. */
  arn: string;
  /** AWS account id. */
  account: string;
  /** Unique id of the caller (e.g. `AROA…:alice`); not secret. */
  userId: string;
}

/**
 * The outcome of the last live identity check.
 */
export interface IIdentityCheck {
  /** Whether a check is running. */
  pending: boolean;
  /** The identity STS reported, when the check worked. */
  identity: ICallerIdentity | null;
  /** Why the check failed, when it did. */
  error: string | null;
}

/**
 * The credentials model behind the status bar item and the details panel.
 */
export class CredentialsModel implements IDisposable {
  /**
   * Create a model; polling starts at once (call `dispose` to stop it).
   */
  constructor(options: CredentialsModel.IOptions) {
    this._api = options.api;
    this._now = options.now ?? Date.now;
    this._checkIdentity = options.checkIdentity ?? null;
    this._trans = options.trans ?? nullTranslator.load('jupyterlab_smallfry');
    this._hubPrefix = options.hubPrefix ?? PageConfig.getOption('hubPrefix');
    const interval = (options.pollSeconds ?? DEFAULT_POLL_SECONDS) * 1000;
    this._poll = new Poll({
      auto: options.autoPoll ?? true,
      factory: () => this._fetch(() => this._api.status()),
      frequency: { interval, backoff: true, max: 10 * interval },
      // No requests while the browser tab is hidden; the poll catches up
      // as soon as the tab shows again.
      standby: options.standby ?? 'when-hidden',
      name: 'jupyterlab-smallfry:credentials#status'
    });
  }

  /**
   * Emitted when the status, the state or the busy flag changes.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * Emitted whenever the countdown text may have changed (1/min, or 1/s
   * near expiry).
   */
  get ticked(): ISignal<this, void> {
    return this._ticked;
  }

  /**
   * The last status from the server, or null before the first answer.
   */
  get status(): ICredentialStatus | null {
    return this._status;
  }

  /**
   * Why the last call to the server failed (the server itself, not AWS), or
   * null.
   */
  get requestError(): string | null {
    return this._requestError;
  }

  /**
   * Whether a refresh or role switch is running.
   */
  get busy(): boolean {
    return this._busy;
  }

  /**
   * The outcome of the last live identity check.
   */
  get identityCheck(): IIdentityCheck {
    return this._identityCheck;
  }

  /**
   * The state the user sees. The server's `ok` becomes `expiring` below
   * `EXPIRING_SECONDS` and `expired` once the expiry has passed.
   */
  get state(): CredentialState {
    if (this._busy) {
      return 'refreshing';
    }
    const status = this._status;
    if (!status) {
      return this._requestError ? 'error' : 'refreshing';
    }
    if (this._requestError) {
      return 'error';
    }
    if (status.state === 'ok' || status.state === 'expiring') {
      const left = this.secondsLeft;
      if (left !== null && left <= 0) {
        return 'expired';
      }
      if (left !== null && left < EXPIRING_SECONDS) {
        return 'expiring';
      }
    }
    return status.state;
  }

  /**
   * Whole seconds until the keys expire (negative once expired), or null
   * when they do not expire or nothing is known.
   */
  get secondsLeft(): number | null {
    const expiration = this._status?.expiration;
    if (!expiration) {
      return null;
    }
    const at = Date.parse(expiration);
    if (Number.isNaN(at)) {
      return null;
    }
    return Math.floor((at - this._now()) / 1000);
  }

  /**
   * The countdown as shown in the status bar ("52 min", "1 h 05 min",
   * "95 s"), or "" when the keys do not expire.
   */
  get countdown(): string {
    const left = this.secondsLeft;
    return left === null ? '' : formatCountdown(left, this._trans);
  }

  /**
   * Who the keys belong to, from the status.
   */
  get identity(): ICredentialIdentity | null {
    return this._status?.identity ?? null;
  }

  /**
   * Where the user logs in to JupyterHub again: the server's own link, else
   * the Hub prefix from the page config, else `/hub/login`.
   */
  get loginUrl(): string {
    if (this._status?.login_url) {
      return this._status.login_url;
    }
    return this._hubPrefix
      ? URLExt.join(this._hubPrefix, 'login')
      : '/hub/login';
  }

  /**
   * Whether the model is disposed.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Change the seconds between status polls.
   */
  setPollSeconds(seconds: number): void {
    const interval = seconds * 1000;
    this._poll.frequency = { interval, backoff: true, max: 10 * interval };
  }

  /**
   * Ask the server for the status now (not waiting for the next poll).
   */
  async update(): Promise<void> {
    await this._poll.refresh();
    await this._poll.tick;
  }

  /**
   * Get new keys now (`POST smallfry/credentials/refresh`).
   */
  refresh(): Promise<void> {
    return this._act(() => this._api.refresh());
  }

  /**
   * Switch to another allowed role (`POST smallfry/credentials/role`).
   *
   * @param arn - one of `status.roles`
   */
  chooseRole(arn: string): Promise<void> {
    return this._act(() => this._api.chooseRole(arn));
  }

  /**
   * Ask STS who we are, live, through the gateway (the panel does this when
   * it opens). Does nothing when the model was built without a checker.
   */
  async checkIdentity(): Promise<void> {
    if (!this._checkIdentity) {
      return;
    }
    this._identityCheck = { pending: true, identity: null, error: null };
    this._emitChanged();
    let next: IIdentityCheck;
    try {
      const identity = await this._checkIdentity();
      next = { pending: false, identity, error: null };
    } catch (error) {
      next = {
        pending: false,
        identity: null,
        error: (error as Error).message ?? String(error)
      };
    }
    if (this._isDisposed) {
      return;
    }
    this._identityCheck = next;
    this._emitChanged();
  }

  /**
   * Stop polling and ticking.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    this._clearTimer();
    Signal.clearData(this);
  }

  private async _act(call: () => Promise<ICredentialStatus>): Promise<void> {
    this._busy = true;
    this._emitChanged();
    try {
      await this._fetch(call);
    } finally {
      this._busy = false;
      if (!this._isDisposed) {
        this._emitChanged();
      }
    }
  }

  /**
   * Run one call to the server and take its status. A failed call is kept
   * as `requestError` (and rethrown, so the poll backs off).
   */
  private async _fetch(call: () => Promise<ICredentialStatus>): Promise<void> {
    try {
      const status = await call();
      if (this._isDisposed) {
        return;
      }
      this._status = status;
      this._requestError = null;
    } catch (error) {
      if (this._isDisposed) {
        return;
      }
      this._requestError = (error as Error).message ?? String(error);
      this._emitChanged();
      this._schedule();
      throw error;
    }
    this._emitChanged();
    this._schedule();
  }

  /**
   * Plan the next countdown tick: on the next minute boundary of the time
   * left, or every second near expiry.
   */
  private _schedule(): void {
    this._clearTimer();
    const left = this.secondsLeft;
    if (left === null || this._isDisposed) {
      return;
    }
    let delay: number;
    if (left <= 0) {
      return; // expired: the next status says what happens now
    } else if (left <= SECOND_TICKS_BELOW) {
      delay = 1000;
    } else {
      const msLeft = Date.parse(this._status!.expiration!) - this._now();
      delay = msLeft % 60000 || 60000;
    }
    this._timer = setTimeout(() => this._tick(), delay);
  }

  private _tick(): void {
    this._timer = null;
    const now = this.state;
    this._ticked.emit();
    if (now !== this._shownState) {
      this._emitChanged();
    }
    if (now === 'expired') {
      // The server may have refreshed meanwhile; ask rather than wait.
      void this._poll.refresh();
    }
    this._schedule();
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _emitChanged(): void {
    this._shownState = this.state;
    this._changed.emit();
  }

  private _api: ICredentialsAPI;
  private _now: () => number;
  private _trans: TranslationBundle;
  private _hubPrefix: string;
  private _checkIdentity: (() => Promise<ICallerIdentity>) | null;
  private _poll: Poll;
  private _status: ICredentialStatus | null = null;
  private _requestError: string | null = null;
  private _busy = false;
  private _identityCheck: IIdentityCheck = {
    pending: false,
    identity: null,
    error: null
  };
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _shownState: CredentialState = 'refreshing';
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _ticked = new Signal<this, void>(this);
}

/**
 * A namespace for CredentialsModel statics.
 */
export namespace CredentialsModel {
  /**
   * Options to create a model.
   */
  export interface IOptions {
    /** The credential endpoints (swap for tests). */
    api: ICredentialsAPI;
    /** Seconds between status polls (default 60). */
    pollSeconds?: number;
    /** Whether to start polling at once (default true). */
    autoPoll?: boolean;
    /** When the poll stands by (default: while the tab is hidden). */
    standby?: Poll.Standby | (() => boolean | Poll.Standby);
    /** The live identity check (STS GetCallerIdentity through the gateway). */
    checkIdentity?: () => Promise<ICallerIdentity>;
    /** The clock, in ms since the epoch (default `Date.now`). */
    now?: () => number;
    /** Translations. */
    trans?: TranslationBundle;
    /** The Hub prefix (default from the page config). */
    hubPrefix?: string;
  }
}

/**
 * The time left as a short label: "1 h 05 min", "52 min", "95 s", or
 * "expired".
 *
 * @param seconds - whole seconds left
 * @param trans - translations
 */
export function formatCountdown(
  seconds: number,
  trans: TranslationBundle
): string {
  if (seconds <= 0) {
    return trans.__('expired');
  }
  if (seconds < SECOND_TICKS_BELOW) {
    return trans.__('%1 s', seconds);
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return trans.__('%1 min', minutes);
  }
  const hours = Math.floor(minutes / 60);
  const rest = String(minutes % 60).padStart(2, '0');
  return trans.__('%1 h %2 min', hours, rest);
}

/**
 * The short name of who the keys belong to: the session name (the Hub
 * user), else the last part of the ARN.
 *
 * @param identity - the identity from the status
 */
export function displayName(identity: ICredentialIdentity): string {
  if (identity.session_name) {
    return identity.session_name;
  }
  const resource = identity.arn.split(':').slice(5).join(':');
  const parts = resource.split('/');
  return parts[parts.length - 1] || identity.arn;
}
