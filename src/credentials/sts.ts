/**
 * The live identity check: STS `GetCallerIdentity` through the server's
 * same-origin AWS gateway (`smallfry/aws/sts`), with `@aws-sdk/client-sts`.
 *
 * Like the S3 client (`src/s3/client.ts`), the browser sends unsigned
 * requests that Jupyter authenticates (cookie + XSRF header, or a token) and
 * the gateway signs with the user's keys. `src/s3/client.ts` does not export
 * its auth middleware, so the few lines it takes are repeated here. The SDK
 * is imported lazily, only when the details panel asks.
 */
import { URLExt } from '@jupyterlab/coreutils';
import type { ServerConnection } from '@jupyterlab/services';

import type { ICallerIdentity } from './model';

/**
 * Where the STS gateway is, relative to the server base URL.
 */
export const DEFAULT_STS_GATEWAY = 'smallfry/aws/sts';

/**
 * Ask STS who the gateway's keys belong to.
 *
 * @param options - the server connection and where its STS gateway is
 * @throws Error with a readable message when STS or the gateway refuses
 */
export async function getCallerIdentity(
  options: IStsOptions
): Promise<ICallerIdentity> {
  const sdk = await import('@aws-sdk/client-sts');
  const settings = options.serverSettings;
  const config: any = {
    endpoint: URLExt.join(
      settings.baseUrl,
      options.gatewayPath ?? DEFAULT_STS_GATEWAY
    ),
    region: options.region || 'us-east-1',
    // The gateway signs; the SDK only needs something to hand the no-op
    // signer.
    credentials: { accessKeyId: 'smallfry', secretAccessKey: 'smallfry' },
    signer: { sign: async (request: any) => request },
    maxAttempts: 1
  };
  if (typeof window !== 'undefined' && typeof document !== 'undefined') {
    config.requestHandler = { credentials: 'same-origin' };
  }
  const client = new sdk.STSClient(config);
  client.middlewareStack.add(
    (next: any) => async (args: any) => {
      const headers = args.request?.headers;
      if (headers) {
        if (settings.token) {
          headers['authorization'] = `token ${settings.token}`;
        }
        const xsrf = cookie('_xsrf');
        if (xsrf !== undefined) {
          headers['x-xsrftoken'] = xsrf;
        }
      }
      return next(args);
    },
    { step: 'build', name: 'smallfryGatewayAuth' }
  );
  client.middlewareStack.addRelativeTo(
    (next: any) => async (args: any) => {
      const result: any = await next(args);
      const response = result.response;
      const type = String(response?.headers?.['content-type'] ?? '');
      if (response?.statusCode >= 400 && type.includes('json')) {
        // The gateway's (or Jupyter's) own refusal: JSON {"message"}, not
        // the XML STS speaks. Say what it said.
        let message = '';
        try {
          message = JSON.parse(await readText(response.body)).message ?? '';
        } catch {
          // no readable message; the status says enough
        }
        throw new GatewayError(
          message || `HTTP ${response.statusCode}`,
          response.statusCode
        );
      }
      return result;
    },
    {
      relation: 'after',
      toMiddleware: 'deserializerMiddleware',
      name: 'smallfryGatewayErrors'
    }
  );
  try {
    const out = await client.send(new sdk.GetCallerIdentityCommand({}));
    return {
      arn: out.Arn ?? '',
      account: out.Account ?? '',
      userId: out.UserId ?? ''
    };
  } catch (error) {
    if (error instanceof GatewayError) {
      throw new Error(`${error.message} (HTTP ${error.status})`);
    }
    const err = error as any;
    const status = err?.$metadata?.httpStatusCode;
    const name = err?.Code ?? err?.name ?? 'Error';
    const message = err?.message && err.message !== name ? err.message : '';
    throw new Error(
      [name, message, status ? `(HTTP ${status})` : '']
        .filter(Boolean)
        .join(' ')
    );
  } finally {
    client.destroy();
  }
}

/**
 * Options of `getCallerIdentity`.
 */
export interface IStsOptions {
  /** Jupyter server connection settings. */
  serverSettings: ServerConnection.ISettings;
  /** STS gateway path relative to the base URL (default `smallfry/aws/sts`). */
  gatewayPath?: string;
  /** Region for the SDK (the gateway signs with its own). */
  region?: string;
}

/**
 * A refusal by the gateway or Jupyter, not by STS.
 */
class GatewayError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

async function readText(body: any): Promise<string> {
  if (!body) {
    return '';
  }
  if (typeof body.getReader === 'function') {
    return new Response(body).text();
  }
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    text +=
      typeof chunk === 'string'
        ? chunk
        : decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

function cookie(name: string): string | undefined {
  if (typeof document === 'undefined') {
    return undefined;
  }
  let value: string | undefined;
  for (const part of document.cookie.split(';')) {
    const trimmed = part.trim();
    if (trimmed.startsWith(name + '=')) {
      value = trimmed.substring(name.length + 1); // Tornado keeps the last
    }
  }
  return value;
}
