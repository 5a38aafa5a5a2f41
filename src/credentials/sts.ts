/**
 * The live identity check: STS `GetCallerIdentity` through the server's
 * same-origin AWS gateway (`smallfry/aws/sts`), with `@aws-sdk/client-sts`.
 *
 * The client comes from the one gateway client factory
 * (`ISmallFry.createClient`), so auth, XSRF and the reading of the gateway's
 * refusals are the S3 client's. The SDK is imported lazily, only when the
 * details panel asks.
 */
import { AwsError } from '../core/gateway';
import type { ISmallFry } from '../tokens';
import type { ICallerIdentity } from './model';

/**
 * Ask STS who the gateway's keys belong to.
 *
 * @param clients - what builds gateway clients (the `ISmallFry` core)
 * @throws AwsError whose `code` (and `gatewayCode`, when the gateway itself
 *   refused, e.g. `ActionNotAllowed`) says what went wrong, with a readable
 *   message that names the code and the HTTP status
 */
export async function getCallerIdentity(
  clients: Pick<ISmallFry, 'createClient'>
): Promise<ICallerIdentity> {
  const sdk = await import('@aws-sdk/client-sts');
  const client = await clients.createClient('sts', sdk.STSClient, {
    maxAttempts: 1
  });
  try {
    const out = await client.send(new sdk.GetCallerIdentityCommand({}));
    return {
      arn: out.Arn ?? '',
      account: out.Account ?? '',
      userId: out.UserId ?? ''
    };
  } catch (error) {
    throw describe(error as AwsError);
  } finally {
    client.destroy();
  }
}

/**
 * The same error, with a message that names its code and HTTP status: the
 * details panel shows only the message.
 */
function describe(error: AwsError): AwsError {
  if (!(error instanceof AwsError)) {
    return error;
  }
  const code = error.fromGateway ? error.gatewayCode : error.code;
  const status = error.status ? `HTTP ${error.status}` : '';
  let message: string;
  if (error.fromGateway) {
    const detail = [code, status].filter(Boolean).join(', ');
    message = detail ? `${error.message} (${detail})` : error.message;
  } else {
    const text = error.message.startsWith(error.code) ? '' : error.message;
    message = [
      error.code,
      text,
      status && !text.includes(status) ? `(${status})` : ''
    ]
      .filter(Boolean)
      .join(' ');
  }
  return new AwsError(
    error.code,
    message,
    error.status,
    error.fromGateway,
    error.gatewayCode
  );
}
