/**
 * The credentials details panel: who you are on AWS, until when, what went
 * wrong and how to fix it, with Refresh now, role switch and a copyable AWS
 * CLI profile.
 */
import { Clipboard } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import { modeLabel, stateClass, stateLabel } from './labels';
import type { CredentialsModel } from './model';

/**
 * Class of the panel (stable, for UI tests).
 */
export const PANEL_CLASS = 'jp-smallfry-CredPanel';

/**
 * The details panel; checks the identity live with STS each time it shows.
 */
export class CredentialsPanel extends ReactWidget {
  /**
   * Create the panel; it follows the model until disposed.
   */
  constructor(options: CredentialsPanel.IOptions) {
    super();
    this._model = options.model;
    this._trans = options.trans;
    this.addClass(PANEL_CLASS);
    this._model.changed.connect(this._changed, this);
    this._model.ticked.connect(this._changed, this);
  }

  /**
   * Dispose of the panel and let go of the model.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._changed, this);
    this._model.ticked.disconnect(this._changed, this);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this._model.update().catch(() => undefined);
    void this._model.checkIdentity();
  }

  protected render(): JSX.Element {
    const model = this._model;
    const trans = this._trans;
    const status = model.status;
    const state = model.state;
    const identity = status?.identity ?? null;
    const check = model.identityCheck;
    const rows: [string, string][] = [];
    if (identity) {
      rows.push([trans.__('Identity ARN'), identity.arn]);
      rows.push([trans.__('Account'), identity.account]);
      rows.push([trans.__('Role'), identity.role || status?.role || '']);
      rows.push([trans.__('Session name'), identity.session_name]);
      if (identity.source_identity) {
        rows.push([trans.__('Source identity'), identity.source_identity]);
      }
    }
    if (status) {
      if (status.expiration) {
        rows.push([
          trans.__('Expires'),
          trans.__(
            '%1 (%2)',
            new Date(status.expiration).toLocaleString(),
            model.countdown
          )
        ]);
      } else if (status.state === 'ok' || status.state === 'expiring') {
        // Working keys without an expiry; with no keys at all there is
        // nothing to expire, so say nothing rather than "never".
        rows.push([trans.__('Expires'), trans.__('never (long-term keys)')]);
      }
      rows.push([
        trans.__('Last refresh'),
        status.last_refresh
          ? new Date(status.last_refresh).toLocaleString()
          : trans.__('never')
      ]);
      rows.push([trans.__('Mode'), modeLabel(status.mode, trans)]);
    }
    const roles = status?.roles ?? [];
    return (
      <div className="jp-smallfry-CredPanel-body">
        <h2 className="jp-smallfry-CredPanel-title">
          {trans.__('AWS credentials')}
        </h2>
        <div
          className={`jp-smallfry-CredPanel-state ${stateClass(state)}`}
          data-smallfry-state={state}
        >
          {stateLabel(state, trans)}
          {model.countdown && (state === 'ok' || state === 'expiring')
            ? trans.__(' · %1 left', model.countdown)
            : ''}
        </div>
        {state === 'needs-login' && (
          <p>
            <a
              className="jp-smallfry-CredPanel-login"
              data-smallfry-action="login"
              href={model.loginUrl}
            >
              {trans.__('Log in to JupyterHub again')}
            </a>
          </p>
        )}
        {model.requestError && (
          <div className="jp-smallfry-CredPanel-error">
            <p>
              {trans.__(
                'The Jupyter server did not answer: %1',
                model.requestError
              )}
            </p>
          </div>
        )}
        {status?.error && (
          <div className="jp-smallfry-CredPanel-error">
            <p className="jp-smallfry-CredPanel-message">
              {status.error.message}
            </p>
            <p className="jp-smallfry-CredPanel-hint">
              <strong>{trans.__('How to fix: ')}</strong>
              {status.error.hint}
            </p>
            {Object.keys(status.error.detail ?? {}).length > 0 && (
              <dl className="jp-smallfry-CredPanel-detail">
                {Object.entries(status.error.detail).map(([key, value]) => (
                  <React.Fragment key={key}>
                    <dt>{key}</dt>
                    <dd>
                      {typeof value === 'string'
                        ? value
                        : JSON.stringify(value)}
                    </dd>
                  </React.Fragment>
                ))}
              </dl>
            )}
            <p className="jp-smallfry-CredPanel-code">
              {trans.__('Error code: %1', status.error.code)}
            </p>
          </div>
        )}
        {(status?.warnings ?? []).map(warning => (
          <div
            key={warning.code}
            className="jp-smallfry-CredPanel-warning"
            data-smallfry-warning={warning.code}
          >
            {warning.message}
          </div>
        ))}
        {rows.length > 0 && (
          <table className="jp-smallfry-CredPanel-table">
            <tbody>
              {rows.map(([name, value]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>{value || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="jp-smallfry-CredPanel-live">
          {check.pending
            ? trans.__('Asking AWS STS who you are…')
            : check.identity
              ? trans.__('AWS STS confirms: %1', check.identity.arn)
              : check.error
                ? trans.__(
                    'AWS STS could not confirm who you are: %1',
                    check.error
                  )
                : ''}
        </p>
        <div className="jp-smallfry-CredPanel-actions">
          <button
            className="jp-mod-styled jp-mod-accept"
            data-smallfry-action="refresh"
            disabled={model.busy}
            onClick={() => void model.refresh().catch(() => undefined)}
          >
            {model.busy ? trans.__('Refreshing…') : trans.__('Refresh now')}
          </button>
          <button
            className="jp-mod-styled"
            data-smallfry-action="check-identity"
            disabled={check.pending}
            onClick={() => void model.checkIdentity()}
          >
            {trans.__('Check with AWS')}
          </button>
          {status?.profile && (
            <button
              className="jp-mod-styled"
              data-smallfry-action="copy-profile"
              onClick={() => Clipboard.copyToSystem(status.profile!.snippet)}
            >
              {trans.__('Copy AWS CLI profile')}
            </button>
          )}
        </div>
        {roles.length > 1 && (
          <label className="jp-smallfry-CredPanel-role">
            {trans.__('Role: ')}
            <select
              className="jp-mod-styled"
              data-smallfry-action="choose-role"
              value={status?.role ?? ''}
              disabled={model.busy}
              onChange={event =>
                void model
                  .chooseRole(event.currentTarget.value)
                  .catch(() => undefined)
              }
            >
              {roles.map(arn => (
                <option key={arn} value={arn}>
                  {arn}
                </option>
              ))}
            </select>
          </label>
        )}
        {status?.profile && (
          <details className="jp-smallfry-CredPanel-profile">
            <summary>
              {trans.__(
                'AWS CLI profile "%1" (no secrets; add it to ~/.aws/config)',
                status.profile.name
              )}
            </summary>
            <pre>{status.profile.snippet}</pre>
          </details>
        )}
      </div>
    );
  }

  private _changed(): void {
    this.update();
  }

  private _model: CredentialsModel;
  private _trans: TranslationBundle;
}

/**
 * A namespace for CredentialsPanel statics.
 */
export namespace CredentialsPanel {
  /**
   * Options to create the panel.
   */
  export interface IOptions {
    /** The credentials model. */
    model: CredentialsModel;
    /** Translations. */
    trans: TranslationBundle;
  }
}
