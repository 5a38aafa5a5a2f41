/**
 * Typed REST client for the Small Fry server extension.
 *
 * Payload interfaces mirror the Python JSON exactly (snake_case).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE, serverPath } from './contract';

/**
 * REST namespace of the server extension, relative to the server base URL
 * (the contract's `server_paths.namespace`).
 */
export { API_NAMESPACE };

/**
 * One pinned S3 location, as the server names it from `c.SmallFry.roots`.
 */
export interface IRootConfig {
  /** Bucket name. */
  bucket: string;
  /** Key prefix inside the bucket: "" or a string ending with "/". */
  prefix: string;
  /**
   * Display name, final and unique among the roots: the browser shows it as
   * it is (the server names roots, see the contract's `roots`).
   */
  name: string;
}

/**
 * Same-origin paths of the AWS gateway, relative to the server base URL.
 */
export interface IGatewayConfig {
  /** Path of the S3 gateway, e.g. "smallfry/aws/s3" (the server builds it). */
  s3: string;
  /** Path of the STS gateway, e.g. "smallfry/aws/sts". */
  sts: string;
  /** Path of the Glue gateway (the Data Catalog), e.g. "smallfry/aws/glue". */
  glue: string;
}

/**
 * Answer of `GET smallfry/config`.
 */
export interface IServerConfig {
  /** Version of the Python package. */
  version: string;
  /**
   * Pinned S3 locations shown at the top of the S3 browser, named by the
   * server. (A bare bucket name string stands for a whole-bucket root named
   * after the bucket; the server itself always sends objects.)
   */
  roots: (IRootConfig | string)[];
  /** Whether the browser may also list every bucket the user can see. */
  list_all_buckets: boolean;
  /** Number of keys fetched per listing page (at most 1000). */
  page_size: number;
  /** Seconds between automatic refreshes of the open S3 folder (0: never). */
  refresh_interval?: number;
  /** AWS region used to sign requests. */
  region: string;
  /** Whether the server runs the embedded local S3 demo. */
  embedded: boolean;
  /** Where the AWS gateway lives. */
  gateway: IGatewayConfig;
  /**
   * Names of the database connections `sf.connect()` knows
   * (`c.SmallFry.connections`): names only, never URLs or secrets.
   */
  connections?: string[];
}

/**
 * One problem the server found, on the field it concerns: a dotted spec
 * path (`schedule.cron`, `parameters.days`) or `""` for the request as a
 * whole. The message is whole and may itself contain "; ".
 */
export interface IFieldError {
  field: string;
  message: string;
}

/**
 * The body of a refusal: `{"message", "errors": [{"field", "message"}]}`
 * (`JobError.to_json()` on the server).
 */
export interface IErrorBody {
  /** Human-readable, for people and logs; never split it into fields. */
  message: string;
  errors?: IFieldError[];
}

/**
 * A refusal by the server extension: a `ResponseError` (so JupyterLab shows
 * its message as usual) that also carries the problems the server listed
 * field by field, to show each next to its field.
 */
export class APIError extends ServerConnection.ResponseError {
  /**
   * @param response - the server's answer
   * @param message - the server's message
   * @param errors - the problems it listed by field (empty when none)
   */
  constructor(
    response: Response,
    message: string,
    readonly errors: IFieldError[] = []
  ) {
    super(response, message);
  }
}

function fieldErrors(data: unknown): IFieldError[] {
  const errors = (data as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) {
    return [];
  }
  return errors
    .filter(
      e =>
        e !== null &&
        typeof e === 'object' &&
        typeof e.field === 'string' &&
        typeof e.message === 'string'
    )
    .map(e => ({ field: e.field, message: e.message }));
}

/**
 * Call an endpoint of the server extension and parse its JSON answer.
 *
 * @param endPoint - path below `smallfry/`, from the contract
 *   (`serverPath(name)`), plus any segments of its own
 * @param settings - the server connection settings
 * @param init - fetch options
 * @returns the parsed JSON body (or `undefined` when there is none)
 * @throws ServerConnection.NetworkError when the server cannot be reached;
 *   otherwise an {@link APIError} (a `ServerConnection.ResponseError`)
 *   carrying the server's message and its problems by field.
 */
export async function requestAPI<T>(
  endPoint: string,
  settings: ServerConnection.ISettings,
  init: RequestInit = {}
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = undefined;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const message =
      data && typeof data === 'object' && 'message' in data
        ? String(data.message)
        : typeof data === 'string' && data
          ? data
          : response.statusText;
    throw new APIError(response, message, fieldErrors(data));
  }
  return data as T;
}

/**
 * Fetch the server extension's configuration.
 *
 * @param settings - the server connection settings
 */
export function getConfig(
  settings: ServerConnection.ISettings
): Promise<IServerConfig> {
  return requestAPI<IServerConfig>(serverPath('config'), settings);
}
