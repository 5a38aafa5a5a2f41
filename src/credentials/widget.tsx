/**
 * The status bar item: who you are on AWS and for how long, colour-coded by
 * state. A click opens the details panel.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { CREDENTIAL_STATES } from './api';
import { stateClass, stateLabel, statusText } from './labels';
import type { CredentialsModel } from './model';

/**
 * Class of the status bar item (stable, for UI tests).
 */
export const STATUS_CLASS = 'jp-smallfry-CredStatus';

/**
 * The credentials status bar item.
 */
export class CredentialsStatus extends ReactWidget {
  /**
   * Create the item; it follows the model until disposed.
   */
  constructor(options: CredentialsStatus.IOptions) {
    super();
    this._model = options.model;
    this._trans = options.trans;
    this._onOpen = options.onOpen;
    this.addClass(STATUS_CLASS);
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;
    this.node.addEventListener('click', this._open);
    this.node.addEventListener('keydown', this._key);
    this._model.changed.connect(this._sync, this);
    this._model.ticked.connect(this._sync, this);
    this._sync();
  }

  /**
   * Dispose of the item and let go of the model.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._sync, this);
    this._model.ticked.disconnect(this._sync, this);
    this.node.removeEventListener('click', this._open);
    this.node.removeEventListener('keydown', this._key);
    super.dispose();
  }

  protected render(): JSX.Element {
    const state = this._model.state;
    const trans = this._trans;
    return (
      <span className="jp-smallfry-CredStatus-label">
        {statusText(this._model, trans)}
        {state === 'needs-login' && (
          <>
            {' · '}
            <a
              className="jp-smallfry-CredStatus-login"
              data-smallfry-action="login"
              href={this._model.loginUrl}
              onClick={event => event.stopPropagation()}
            >
              {trans.__('log in')}
            </a>
          </>
        )}
      </span>
    );
  }

  private _sync(): void {
    const state = this._model.state;
    for (const s of CREDENTIAL_STATES) {
      this.node.classList.toggle(stateClass(s), s === state);
    }
    this.node.dataset.smallfryState = state;
    const trans = this._trans;
    const error = this._model.status?.error;
    this.node.title = error
      ? trans.__(
          '%1: %2 Click for details.',
          stateLabel(state, trans),
          error.message
        )
      : trans.__(
          'AWS credentials: %1. Click for details.',
          stateLabel(state, trans)
        );
    this.update();
  }

  private _open = (): void => {
    this._onOpen();
  };

  private _key = (event: KeyboardEvent): void => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this._onOpen();
    }
  };

  private _model: CredentialsModel;
  private _trans: TranslationBundle;
  private _onOpen: () => void;
}

/**
 * A namespace for CredentialsStatus statics.
 */
export namespace CredentialsStatus {
  /**
   * Options to create the item.
   */
  export interface IOptions {
    /** The credentials model. */
    model: CredentialsModel;
    /** Translations. */
    trans: TranslationBundle;
    /** Open the details panel. */
    onOpen: () => void;
  }
}
