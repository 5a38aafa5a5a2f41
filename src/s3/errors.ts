/**
 * What the S3 drive tells the user when something fails, and the errors it
 * hands back to JupyterLab.
 */
import { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import { IBatchReport, AwsError, toAwsError } from './client';

/**
 * A batch operation that partly failed; `cause` is the first failure.
 */
export class BatchError extends Error {
  constructor(
    message: string,
    readonly cause: AwsError
  ) {
    super(message);
  }
}

/**
 * How to report one failure.
 */
export interface IExplanation {
  /** HTTP status JupyterLab sees on the rejected promise. */
  status: number;
  /** A message that says what happened and what to do. */
  message: string;
  /** Whether to notify the user (failures they must act on). */
  notify: boolean;
  /**
   * Whether the fix is in the user's AWS credentials or role, so the
   * notification offers the credentials panel.
   */
  credentials: boolean;
}

/**
 * Explain a failure of an S3 operation in the user's terms.
 *
 * @param error - what was thrown (AwsError, BatchError or anything else)
 * @param action - the verb, translated ("open", "save", …)
 * @param path - the drive path acted on
 * @param bucket - its bucket ("" when unknown)
 * @param trans - translation bundle
 */
export function explainFailure(
  error: unknown,
  action: string,
  path: string,
  bucket: string,
  trans: TranslationBundle
): IExplanation {
  const err = error instanceof BatchError ? error.cause : toAwsError(error);
  let message = error instanceof BatchError ? error.message : err.message;
  let status = err.status ?? 500;
  let notify = error instanceof BatchError;
  let credentials = false;
  // The top level (the list of S3 locations) has no path to quote.
  const target = path ? `"${path}"` : trans.__('the list of S3 locations');
  switch (err.code) {
    case 'AccessDenied':
    case 'AllAccessDisabled':
      message = trans.__(
        'Your AWS role is not allowed to %1 %2 (AccessDenied). Ask your administrator for access to s3://%3, or use another location.',
        action,
        target,
        bucket
      );
      status = 403;
      notify = true;
      credentials = true;
      break;
    case 'NoSuchBucket':
      message = trans.__(
        'The bucket "%1" does not exist, or is not visible with your credentials. Check the Small Fry roots configuration.',
        bucket
      );
      status = 404;
      notify = true;
      break;
    case 'ExpiredToken':
    case 'ExpiredTokenException':
    case 'TokenRefreshRequired':
    case 'InvalidToken':
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'RequestExpired':
      message = trans.__(
        'Your AWS credentials have expired or are not valid (%1). Refresh credentials, then try to %2 %3 again.',
        err.code,
        action,
        target
      );
      status = 401;
      notify = true;
      credentials = true;
      break;
    case 'NetworkError':
      message = trans.__(
        'The Jupyter server could not be reached to %1 %2. Check your connection, then try again.',
        action,
        target
      );
      status = 503;
      notify = true;
      break;
    case 'GatewayError':
      if (err.status === 502 || err.status === 504) {
        message = trans.__(
          'S3 could not be reached to %1 %2. %3 Refresh once it is back.',
          action,
          target,
          err.message
        );
      } else if (
        err.status === 403 &&
        err.gatewayCode &&
        err.gatewayCode !== 'GatewayError'
      ) {
        // The gateway has no AWS credentials to sign with.
        message = trans.__(
          'Could not %1 %2: the server has no usable AWS credentials (%3). Refresh credentials, then try again.',
          action,
          target,
          err.message
        );
        credentials = true;
      } else if (err.status === 403 || err.status === 401) {
        // Jupyter itself refused: the login or the XSRF cookie is gone.
        message = trans.__(
          'The Jupyter server refused to %1 %2: %3. Reload the page to log in again.',
          action,
          target,
          err.message
        );
      } else {
        message = trans.__('Could not %1 %2: %3', action, target, err.message);
      }
      notify = true;
      break;
    case 'NoSuchKey':
      status = err.status === 409 ? 409 : 404;
      break;
    default:
      if (!(error instanceof BatchError) && err.status && err.status >= 500) {
        message = trans.__(
          'S3 failed to %1 %2: %3',
          action,
          target,
          err.message
        );
        notify = true;
      }
  }
  return { status, message, notify, credentials };
}

/**
 * A `ResponseError` as JupyterLab's own contents calls reject with: callers
 * look at `response.status` (e.g. 404 before a first save, 409 on rename).
 */
export function responseError(
  status: number,
  message: string
): ServerConnection.ResponseError {
  const response = new Response(JSON.stringify({ message }), {
    status: status >= 200 && status <= 599 ? status : 500,
    headers: { 'Content-Type': 'application/json' }
  });
  return new ServerConnection.ResponseError(response, message);
}

/**
 * The first failures of a batch, one per line.
 */
export function describeFailures<T>(
  report: IBatchReport<T>,
  label: (item: T) => string,
  trans: TranslationBundle
): string {
  const lines = report.failed
    .slice(0, 10)
    .map(f => `${label(f.item)}: ${f.error.code}`);
  if (report.failed.length > 10) {
    lines.push(trans.__('… and %1 more', report.failed.length - 10));
  }
  return lines.join('\n');
}

/**
 * A request the drive cannot do as asked (HTTP 400), in the user's words.
 */
export function invalidRequest(message: string): AwsError {
  return new AwsError('InvalidRequest', message, 400);
}

/**
 * Nothing at a drive path, as S3 says it for a key (NoSuchKey, HTTP 404):
 * JupyterLab treats a 404 as "not there yet", not as a failure to report.
 */
export function noSuchKey(message: string): AwsError {
  return new AwsError('NoSuchKey', message, 404);
}
