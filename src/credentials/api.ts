/**
 * Typed client for the credential endpoints of the server extension.
 *
 * The payload interfaces mirror the JSON of
 * `server-ext/jupyterlab_smallfry/credentials/service.py` (`status()`)
 * exactly, snake_case included. Nothing here is ever secret: the status
 * never carries a key or a token.
 */
import type { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../api';
import { CREDENTIAL_STATES as CONTRACT_STATES, serverPath } from '../contract';

/**
 * Where the credentials come from (`c.SmallFry.credentials_mode`).
 */
export type CredentialMode = 'ambient' | 'web-identity' | 'broker';

/**
 * What the server says about the credentials. The front end adds
 * `expiring` itself when few minutes are left (see the model). The states
 * are the contract's `credential_states`; a spec checks that this union
 * lists exactly those (TypeScript cannot read literal types from JSON).
 */
export type CredentialState =
  | 'ok'
  | 'refreshing'
  | 'expiring'
  | 'expired'
  | 'needs-login'
  | 'error'
  | 'not-configured';

/**
 * Every state, in the order the widget documents them (the contract's list).
 */
export const CREDENTIAL_STATES =
  CONTRACT_STATES as ReadonlyArray<CredentialState>;

/**
 * Who the keys belong to, as AWS sees it (`Identity.to_json`).
 */
export interface ICredentialIdentity {
  /** Caller ARN, e.g. `arn:aws:sts::123456789012:assumed-role/analyst/alice`. */
  arn: string;
  /** AWS account id. */
  account: string;
  /** Role name (or user name for IAM users); may be empty. */
  role: string;
  /** Role session name; may be empty. */
  session_name: string;
  /** SourceIdentity set on the session; may be empty. */
  source_identity: string;
}

/**
 * Why there are no usable credentials (`CredentialError.to_json`).
 */
export interface ICredentialError {
  /** Stable code, e.g. `no-auth-state`, `ExpiredToken`. */
  code: string;
  /** What happened, in plain words. */
  message: string;
  /** What to do, and who can do it. */
  hint: string;
  /** Non-secret facts that help fix it (e.g. a token's issuer and audience). */
  detail: { [key: string]: unknown };
}

/**
 * A warning shown in the details panel (e.g. static keys in the environment).
 */
export interface ICredentialWarning {
  /** Stable code, e.g. `static-env-keys`, `user-profile`. */
  code: string;
  /** The warning, in plain words. */
  message: string;
}

/**
 * The managed AWS profile kernels and terminals use (`KernelProfile.to_json`).
 */
export interface IKernelProfile {
  /** Profile name (`smallfry`). */
  name: string;
  /** Whether kernels were pointed at it. */
  applied: boolean;
  /** The variable by which the user chose their own profile, or "". */
  chosen_by_user: string;
  /** A non-secret `~/.aws/config` snippet with the `credential_process`. */
  snippet: string;
}

/**
 * Answer of `GET smallfry/credentials` (and of the two POSTs).
 */
export interface ICredentialStatus {
  /** Where the credentials come from. */
  mode: CredentialMode;
  /** The server's view of the credentials (never `expiring` for a short life). */
  state: CredentialState;
  /** Who the keys belong to, when known. */
  identity: ICredentialIdentity | null;
  /** ISO 8601 UTC expiry of the keys, or null when they do not expire. */
  expiration: string | null;
  /** Seconds left when the status was made, or null. */
  expires_in: number | null;
  /** Seconds before expiry at which the server refreshes. */
  refresh_margin: number;
  /** ISO 8601 UTC time of the last successful refresh, or null. */
  last_refresh: string | null;
  /** The chosen role ARN (or role name from the identity), or "". */
  role: string;
  /** Role ARNs the user may switch between. */
  roles: string[];
  /** Non-secret facts about the login token (iss, aud, exp). */
  token: { [key: string]: unknown };
  /** Things the user should know. */
  warnings: ICredentialWarning[];
  /** The last error, or null. */
  error: ICredentialError | null;
  /** The Hub login page, or "" outside JupyterHub. */
  login_url: string;
  /** The managed kernel profile, or null when none was installed. */
  profile: IKernelProfile | null;
}

/**
 * The credential calls, as one interface so views and tests can swap them.
 */
export interface ICredentialsAPI {
  /** `GET smallfry/credentials`. */
  status(): Promise<ICredentialStatus>;
  /** `POST smallfry/credentials/refresh`: new keys now. */
  refresh(): Promise<ICredentialStatus>;
  /** `POST smallfry/credentials/role`: switch to another allowed role. */
  chooseRole(arn: string): Promise<ICredentialStatus>;
}

/**
 * The credential endpoints of one Jupyter server.
 */
export class CredentialsAPI implements ICredentialsAPI {
  /**
   * @param serverSettings - the Jupyter server connection settings
   */
  constructor(readonly serverSettings: ServerConnection.ISettings) {}

  status(): Promise<ICredentialStatus> {
    return requestAPI<ICredentialStatus>(
      serverPath('credentials'),
      this.serverSettings
    );
  }

  refresh(): Promise<ICredentialStatus> {
    return requestAPI<ICredentialStatus>(
      serverPath('credentials_refresh'),
      this.serverSettings,
      { method: 'POST' }
    );
  }

  chooseRole(arn: string): Promise<ICredentialStatus> {
    return requestAPI<ICredentialStatus>(
      serverPath('credentials_role'),
      this.serverSettings,
      { method: 'POST', body: JSON.stringify({ role: arn }) }
    );
  }
}
