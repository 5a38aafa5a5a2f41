/**
 * The one transport to AWS: SDK clients pointed at the server extension's
 * same-origin AWS gateway (`smallfry/aws/<service>`).
 *
 * Why one module: the browser never holds AWS keys. It sends unsigned
 * requests that Jupyter authenticates like any API call (cookie + XSRF
 * header, or a token), and the gateway signs them with the user's keys. The
 * endpoint, the no-op signer, the auth middleware and the reading of the
 * gateway's own refusals are the same for every service; two copies of them
 * drifted once (STS lost the gateway's error code), so every client is built
 * here, by {@link createGatewayClient}, and every failure is turned into one
 * {@link AwsError} by {@link toAwsError}.
 */
import { URLExt } from '@jupyterlab/coreutils';
import type { ServerConnection } from '@jupyterlab/services';

/**
 * An AWS or gateway failure, normalised so callers can branch on `code`.
 */
export class AwsError extends Error {
  /**
   * Create an error.
   *
   * @param code - the AWS error code (e.g. `NoSuchKey`, `AccessDenied`), or
   *   `GatewayError`, `NetworkError` for failures that did not come from AWS
   * @param message - a readable message
   * @param status - the HTTP status, when there was an answer
   * @param fromGateway - whether the Jupyter server (not AWS) refused the call
   * @param gatewayCode - the gateway's own error code (its JSON `code`, also
   *   sent as the `X-Smallfry-Error` header), e.g. `EndpointUnreachable`,
   *   `ActionNotAllowed` or a credential problem
   */
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    readonly fromGateway = false,
    readonly gatewayCode?: string
  ) {
    super(message);
    this.name = 'AwsError';
  }
}

/**
 * The part of an AWS SDK v3 client the factory configures.
 */
export interface IGatewayClient {
  /** The SDK's middleware stack (typed loosely: it differs per client). */
  middlewareStack: {
    add(middleware: any, options: any): void;
    addRelativeTo(middleware: any, options: any): void;
  };
  /** Release the client's sockets. */
  destroy(): void;
}

/**
 * Where the gateway of one service is and how to reach it.
 */
export interface IGatewayClientOptions {
  /** Jupyter server connection settings (base URL, token). */
  serverSettings: ServerConnection.ISettings;
  /** Gateway path relative to the base URL, e.g. `smallfry/aws/sts`. */
  gatewayPath: string;
  /** Region the SDK puts in requests (the gateway signs with its own). */
  region?: string;
  /**
   * More SDK client configuration, e.g. `forcePathStyle` for S3 or
   * `maxAttempts`; it cannot replace the endpoint, signer or credentials.
   */
  config?: Record<string, unknown>;
}

/**
 * Build an AWS SDK v3 client of any service that talks to the gateway.
 *
 * Every request carries Jupyter's auth (the token, or the `_xsrf` cookie as
 * `X-XSRFToken` so Jupyter accepts writes); nothing is signed in the browser;
 * every failure rejects `send` with an {@link AwsError} that keeps the
 * gateway's `code` and `message`, or the service's own error code.
 *
 * @param Client - the SDK client class, e.g. `STSClient` from a lazily
 *   imported `@aws-sdk/client-sts`
 * @param options - where the gateway is
 * @returns the client; `destroy()` it when done
 */
export function createGatewayClient<C extends IGatewayClient>(
  Client: new (config: any) => C,
  options: IGatewayClientOptions
): C {
  const settings = options.serverSettings;
  const config: Record<string, unknown> = {
    ...options.config,
    endpoint: URLExt.join(settings.baseUrl, options.gatewayPath),
    region: options.region || 'us-east-1',
    // The gateway signs; the browser never holds keys. The SDK still wants
    // credentials to exist before it calls the (no-op) signer.
    credentials: { accessKeyId: 'smallfry', secretAccessKey: 'smallfry' },
    signer: { sign: async (request: unknown) => request }
  };
  if (typeof window !== 'undefined' && typeof document !== 'undefined') {
    // Browser: send the Jupyter cookie with every call (options object for
    // the SDK's default fetch handler).
    config.requestHandler = { credentials: 'same-origin' };
  }
  const client = new Client(config);
  client.middlewareStack.add(
    (next: any) => async (args: any) => {
      try {
        return await next(args);
      } catch (error) {
        throw toAwsError(error);
      }
    },
    { step: 'initialize', name: 'smallfryErrorMapping', priority: 'high' }
  );
  client.middlewareStack.add(
    (next: any) => async (args: any) => {
      const headers = args.request?.headers;
      if (headers) {
        if (settings.token) {
          headers['authorization'] = `token ${settings.token}`;
        }
        const xsrf = readCookie('_xsrf');
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
      const error = await gatewayRefusal(result.response);
      if (error) {
        throw error;
      }
      return result;
    },
    {
      relation: 'after',
      toMiddleware: 'deserializerMiddleware',
      name: 'smallfryGatewayErrors'
    }
  );
  return client;
}

/**
 * Turn whatever an SDK client (or the network) threw into an `AwsError`.
 */
export function toAwsError(error: unknown): AwsError {
  if (error instanceof AwsError) {
    return error;
  }
  const err = error as any;
  const status: number | undefined = err?.$metadata?.httpStatusCode;
  let code: string = err?.Code ?? err?.name ?? 'Error';
  let message: string = err?.message ?? String(error);
  if (status === undefined && !err?.$metadata) {
    if (isNetworkFailure(err)) {
      // No answer at all: the Jupyter server itself is unreachable.
      code = 'NetworkError';
    }
  } else if (code === 'NotFound' || (status === 404 && code === 'Unknown')) {
    // HEAD errors have no body, so the SDK only knows the status.
    code = 'NoSuchKey';
  } else if (
    status === 412 &&
    (code === 'Unknown' || code === 'PreconditionFailed')
  ) {
    code = 'PreconditionFailed';
  } else if (status === 403 && code === 'Forbidden') {
    code = 'AccessDenied';
  }
  if (!message || message === 'UnknownError' || message === code) {
    message = status ? `${code} (HTTP ${status})` : code;
  }
  return new AwsError(code, message, status);
}

/**
 * The gateway's (or Jupyter's) own refusal in a response, if it is one.
 *
 * The gateway marks its errors with an `X-Smallfry-Error` header and a JSON
 * `{"message", "code"}` body; Jupyter's own refusals (not logged in, XSRF)
 * are JSON `{"message"}`. AWS answers in XML, left to the SDK to parse.
 */
async function gatewayRefusal(response: any): Promise<AwsError | null> {
  if (!response || response.statusCode < 400) {
    return null;
  }
  const marker = headerValue(response.headers, 'x-smallfry-error');
  const contentType = headerValue(response.headers, 'content-type');
  let message = '';
  let code = marker;
  let isGateway = marker !== '';
  if (contentType.includes('json')) {
    // Read the body once; hand it back to the SDK if it is not ours.
    const bytes = await readBody(response.body);
    response.body = bytes;
    try {
      const parsed = JSON.parse(new TextDecoder().decode(bytes));
      // AWS JSON-protocol services (Glue) answer `{"__type", "message"}`:
      // that is the service's error, for the SDK to read, not the gateway's.
      const fromService = !!parsed && typeof parsed.__type === 'string';
      if (parsed && typeof parsed.message === 'string' && !fromService) {
        message = parsed.message;
        isGateway = true;
      }
      if (parsed && typeof parsed.code === 'string' && !code) {
        code = parsed.code;
      }
    } catch {
      // not JSON after all: the service's answer, let the SDK parse it
    }
  }
  if (!isGateway) {
    return null;
  }
  const status: number = response.statusCode;
  return new AwsError(
    'GatewayError',
    message || (code ? `${code} (HTTP ${status})` : `HTTP ${status}`),
    status,
    true,
    code || undefined
  );
}

/**
 * Whether an error means no HTTP answer came back at all.
 */
function isNetworkFailure(err: any): boolean {
  const code = String(err?.code ?? '');
  const name = String(err?.name ?? '');
  const message = String(err?.message ?? '');
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EPIPE', 'ETIMEDOUT'].includes(
      code
    ) ||
    ['TimeoutError', 'AbortError', 'NetworkError'].includes(name) ||
    (name === 'TypeError' && /fetch|network/i.test(message))
  );
}

function readCookie(name: string): string | undefined {
  if (typeof document === 'undefined') {
    return undefined;
  }
  let cookie = '';
  try {
    cookie = document.cookie;
  } catch {
    return undefined;
  }
  // Tornado keeps the last of duplicate cookies; do the same.
  let value: string | undefined;
  for (const part of cookie.split(';')) {
    const trimmed = part.trim();
    if (trimmed.startsWith(name + '=')) {
      value = trimmed.substring(name.length + 1);
    }
  }
  return value;
}

function headerValue(headers: Record<string, string>, name: string): string {
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() === name) {
      return String(v);
    }
  }
  return '';
}

async function readBody(body: any): Promise<Uint8Array> {
  if (!body) {
    return new Uint8Array(0);
  }
  if (body instanceof Uint8Array) {
    return body;
  }
  if (typeof body.getReader === 'function') {
    return new Uint8Array(await new Response(body).arrayBuffer());
  }
  if (typeof body.arrayBuffer === 'function') {
    return new Uint8Array(await body.arrayBuffer());
  }
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of body) {
    const bytes =
      typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    chunks.push(bytes);
    length += bytes.byteLength;
  }
  const all = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  return all;
}
