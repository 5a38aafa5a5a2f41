/**
 * The words the credentials views use for each state, in one place so the
 * status bar item and the details panel say the same thing.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { CredentialMode, CredentialState } from './api';
import { type CredentialsModel, displayName } from './model';

/**
 * The CSS class of a state: `jp-smallfry-CredStatus-<state>`.
 */
export function stateClass(state: CredentialState): string {
  return `jp-smallfry-CredStatus-${state}`;
}

/**
 * A state in a few words.
 */
export function stateLabel(
  state: CredentialState,
  trans: TranslationBundle
): string {
  switch (state) {
    case 'ok':
      return trans.__('Signed in');
    case 'refreshing':
      return trans.__('Refreshing…');
    case 'expiring':
      return trans.__('Expiring soon');
    case 'expired':
      return trans.__('Expired');
    case 'needs-login':
      return trans.__('Log in again');
    case 'error':
      return trans.__('Error');
    case 'not-configured':
      return trans.__('Not configured');
  }
}

/**
 * A credential mode in a few words.
 */
export function modeLabel(
  mode: CredentialMode,
  trans: TranslationBundle
): string {
  switch (mode) {
    case 'ambient':
      return trans.__('Server credentials (ambient)');
    case 'web-identity':
      return trans.__('Single sign-on (web identity)');
    case 'broker':
      return trans.__('Credential broker on the Hub');
    default:
      return String(mode);
  }
}

/**
 * The status bar text, e.g. `AWS: alice @ 123456789012 (analyst) · 52 min`.
 */
export function statusText(
  model: CredentialsModel,
  trans: TranslationBundle
): string {
  const state = model.state;
  const identity = model.identity;
  if ((state === 'ok' || state === 'expiring') && identity) {
    let who = displayName(identity);
    if (identity.account) {
      who = trans.__('%1 @ %2', who, identity.account);
    }
    if (identity.role && identity.role !== displayName(identity)) {
      who = trans.__('%1 (%2)', who, identity.role);
    }
    const left = model.countdown;
    return left
      ? trans.__('AWS: %1 · %2', who, left)
      : trans.__('AWS: %1', who);
  }
  if (state === 'ok' || state === 'expiring') {
    const left = model.countdown;
    return left
      ? trans.__('AWS: signed in · %1', left)
      : trans.__('AWS: signed in');
  }
  return trans.__('AWS: %1', stateLabel(state, trans).toLowerCase());
}
