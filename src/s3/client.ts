/**
 * The only module that talks to S3.
 *
 * It drives the official `@aws-sdk/client-s3` against the server extension's
 * same-origin AWS gateway: the browser sends unsigned requests, authenticated
 * like any Jupyter API call (cookie + XSRF header, or a token), and the server
 * signs them with the user's credentials. The SDK is imported lazily so that
 * JupyterLab starts without loading it.
 */
import { URLExt } from '@jupyterlab/coreutils';
import type { ServerConnection } from '@jupyterlab/services';
import type {
  _Object,
  CompletedPart,
  S3Client,
  S3ClientConfig
} from '@aws-sdk/client-s3';

import { mapConcurrently } from './concurrency';

type SDK = typeof import('@aws-sdk/client-s3');

/**
 * An S3 or gateway failure, normalised so callers can branch on `code`.
 */
export class S3Error extends Error {
  /**
   * Create an error.
   *
   * @param code - the S3 error code (e.g. `NoSuchKey`), or `GatewayError`,
   *   `NetworkError` for failures that did not come from S3
   * @param message - a readable message
   * @param status - the HTTP status, when there was an answer
   * @param fromGateway - whether the Jupyter server (not S3) refused the call
   * @param gatewayCode - the gateway's own error code (`X-Smallfry-Error`),
   *   e.g. `EndpointUnreachable` or a credential problem
   */
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    readonly fromGateway = false,
    readonly gatewayCode?: string
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

/**
 * One object from a listing.
 */
export interface IObjectSummary {
  /** Full key. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** Last modification time. */
  lastModified: Date;
  /** ETag as S3 reports it, quotes included. */
  etag: string;
}

/**
 * One page of a one-level listing.
 */
export interface IListPage {
  /** Common prefixes (full, ending with "/"). */
  folders: string[];
  /** Objects directly under the prefix. */
  files: IObjectSummary[];
  /** Token of the next page, when the listing is truncated. */
  nextToken?: string;
}

/**
 * Metadata of one object.
 */
export interface IObjectInfo {
  /** Size in bytes. */
  size: number;
  /** Last modification time. */
  lastModified: Date;
  /** ETag, quotes included. */
  etag: string;
  /** Content-Type stored with the object. */
  contentType?: string;
}

/**
 * An object read whole.
 */
export interface IObjectData extends IObjectInfo {
  /** The bytes of the object. */
  body: Uint8Array;
}

/**
 * Outcome of a batch operation: what worked and what did not.
 */
export interface IBatchReport<T> {
  /** Items that succeeded. */
  succeeded: T[];
  /** Items that failed, with the reason. */
  failed: { item: T; error: S3Error }[];
}

/**
 * A copy from one key to another.
 */
export interface ICopyPair {
  /** Source bucket. */
  srcBucket: string;
  /** Source key. */
  srcKey: string;
  /** Destination bucket. */
  dstBucket: string;
  /** Destination key. */
  dstKey: string;
  /**
   * The source's size in bytes, when known: objects larger than S3's
   * single-copy limit (5 GiB) are copied in parts.
   */
  size?: number;
}

/** The largest object one CopyObject call may copy (S3's limit). */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;

/** The smallest part of a multipart copy (S3 allows 10,000 parts). */
const COPY_PART_BYTES = 512 * 1024 ** 2;

/** How many parts of one multipart copy run at once. */
const COPY_PART_CONCURRENCY = 4;

/**
 * Progress callback: `done` of `total` items handled.
 */
export type ProgressCallback = (done: number, total: number) => void;

/**
 * S3 operations the drive needs, over the AWS gateway.
 */
export class S3Gateway {
  /**
   * Create a gateway client.
   *
   * @param options - where the gateway is and how to reach it
   */
  constructor(options: S3Gateway.IOptions) {
    this.serverSettings = options.serverSettings;
    this.region = options.region;
    this.endpoint = URLExt.join(
      options.serverSettings.baseUrl,
      options.gatewayPath
    );
    this.copyConcurrency = options.copyConcurrency ?? 8;
    this.multipartCopyAbove =
      options.multipartCopyAbove ?? MAX_SINGLE_COPY_BYTES;
    this.copyPartBytes = options.copyPartBytes ?? COPY_PART_BYTES;
  }

  /** Connection settings of the Jupyter server. */
  readonly serverSettings: ServerConnection.ISettings;
  /** Region used to sign requests. */
  readonly region: string;
  /** Absolute URL of the S3 gateway. */
  readonly endpoint: string;
  /** How many copies run at once in `copyMany`. */
  readonly copyConcurrency: number;
  /** Objects larger than this many bytes are copied in parts. */
  readonly multipartCopyAbove: number;
  /** The smallest part of a multipart copy, in bytes. */
  readonly copyPartBytes: number;

  /**
   * List one level below `prefix` (Delimiter "/"), one page.
   *
   * @param bucket - the bucket
   * @param prefix - "" or a prefix (usually ending with "/")
   * @param options - page size and continuation token
   */
  async listLevel(
    bucket: string,
    prefix: string,
    options: { maxKeys?: number; token?: string } = {}
  ): Promise<IListPage> {
    const { sdk, client } = await this._client();
    const out = await this._send(
      client,
      new sdk.ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix || undefined,
        Delimiter: '/',
        MaxKeys: options.maxKeys,
        ContinuationToken: options.token
      })
    );
    return {
      folders: (out.CommonPrefixes ?? [])
        .map((p: { Prefix?: string }) => p.Prefix ?? '')
        .filter((p: string) => p !== ''),
      files: (out.Contents ?? []).map(toSummary),
      nextToken: out.IsTruncated
        ? (out.NextContinuationToken ?? undefined)
        : undefined
    };
  }

  /**
   * Iterate over every object below `prefix`, recursively, page by page.
   *
   * @param bucket - the bucket
   * @param prefix - the prefix ("" for the whole bucket)
   */
  async *listAll(
    bucket: string,
    prefix: string
  ): AsyncGenerator<IObjectSummary[]> {
    const { sdk, client } = await this._client();
    let token: string | undefined = undefined;
    do {
      const out: any = await this._send(
        client,
        new sdk.ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix || undefined,
          ContinuationToken: token
        })
      );
      yield (out.Contents ?? []).map(toSummary);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * Whether anything exists at or below `prefix` (one key is enough).
   *
   * @param bucket - the bucket
   * @param prefix - the prefix
   */
  async prefixExists(bucket: string, prefix: string): Promise<boolean> {
    const { sdk, client } = await this._client();
    const out = await this._send(
      client,
      new sdk.ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        MaxKeys: 1
      })
    );
    return (out.KeyCount ?? out.Contents?.length ?? 0) > 0;
  }

  /**
   * Read an object's metadata (HEAD).
   *
   * @param bucket - the bucket
   * @param key - the key
   */
  async head(bucket: string, key: string): Promise<IObjectInfo> {
    const { sdk, client } = await this._client();
    const out = await this._send(
      client,
      new sdk.HeadObjectCommand({ Bucket: bucket, Key: key })
    );
    return {
      size: out.ContentLength ?? 0,
      lastModified: out.LastModified ?? new Date(0),
      etag: out.ETag ?? '',
      contentType: out.ContentType
    };
  }

  /**
   * Read a whole object.
   *
   * @param bucket - the bucket
   * @param key - the key
   */
  async get(
    bucket: string,
    key: string,
    options: { maxBytes?: number } = {}
  ): Promise<IObjectData> {
    const { sdk, client } = await this._client();
    const out = await this._send(
      client,
      new sdk.GetObjectCommand({ Bucket: bucket, Key: key })
    );
    const size: number | undefined = out.ContentLength;
    if (
      options.maxBytes !== undefined &&
      size !== undefined &&
      size > options.maxBytes
    ) {
      // Do not pull the whole object into memory.
      destroyBody(out.Body);
      throw new S3Error(
        'ObjectTooLarge',
        `The object is ${size} bytes, more than the ${options.maxBytes} that can be opened here`,
        413
      );
    }
    const body = out.Body
      ? await out.Body.transformToByteArray()
      : new Uint8Array(0);
    return {
      body,
      size: size ?? body.byteLength,
      lastModified: out.LastModified ?? new Date(0),
      etag: out.ETag ?? '',
      contentType: out.ContentType
    };
  }

  /**
   * Write a whole object.
   *
   * @param bucket - the bucket
   * @param key - the key
   * @param body - the bytes
   * @param options - `ifMatch`: only write if the object still has this
   *   ETag; `ifNoneMatch: '*'`: only write if there is no object yet
   * @returns the new ETag
   */
  async put(
    bucket: string,
    key: string,
    body: Uint8Array,
    options: {
      contentType?: string;
      ifMatch?: string;
      ifNoneMatch?: string;
    } = {}
  ): Promise<string> {
    const { sdk, client } = await this._client();
    const out = await this._send(
      client,
      new sdk.PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentLength: body.byteLength,
        ContentType: options.contentType,
        IfMatch: options.ifMatch,
        IfNoneMatch: options.ifNoneMatch
      })
    );
    return out.ETag ?? '';
  }

  /**
   * Start a multipart upload.
   *
   * @returns the upload id
   */
  async createMultipart(
    bucket: string,
    key: string,
    contentType?: string
  ): Promise<string> {
    const { sdk, client } = await this._client();
    const out = await this._send(
      client,
      new sdk.CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ContentType: contentType
      })
    );
    if (!out.UploadId) {
      throw new S3Error('InvalidResponse', 'S3 returned no upload id');
    }
    return out.UploadId;
  }

  /**
   * Upload one part of a multipart upload.
   *
   * @returns the part's ETag
   */
  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array
  ): Promise<string> {
    const { sdk, client } = await this._client();
    const out = await this._send(
      client,
      new sdk.UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.byteLength
      })
    );
    return out.ETag ?? '';
  }

  /**
   * Complete a multipart upload.
   *
   * @returns the object's ETag (ending with `-<number of parts>`)
   */
  async completeMultipart(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletedPart[]
  ): Promise<string> {
    const { sdk, client } = await this._client();
    const out = await this._send(
      client,
      new sdk.CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts }
      })
    );
    return out.ETag ?? '';
  }

  /**
   * Abort a multipart upload, so S3 drops (and stops billing) its parts.
   */
  async abortMultipart(
    bucket: string,
    key: string,
    uploadId: string
  ): Promise<void> {
    const { sdk, client } = await this._client();
    await this._send(
      client,
      new sdk.AbortMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId
      })
    );
  }

  /**
   * Copy one object (server side); in parts when it is larger than S3's
   * single-copy limit and `pair.size` says so.
   *
   * @returns the new ETag
   */
  async copy(pair: ICopyPair): Promise<string> {
    if (pair.size !== undefined && pair.size > this.multipartCopyAbove) {
      return this._copyInParts(pair, pair.size);
    }
    const { sdk, client } = await this._client();
    const out = await this._send(
      client,
      new sdk.CopyObjectCommand({
        Bucket: pair.dstBucket,
        Key: pair.dstKey,
        CopySource: copySource(pair.srcBucket, pair.srcKey)
      })
    );
    return out.CopyObjectResult?.ETag ?? '';
  }

  /**
   * A multipart copy: UploadPartCopy of byte ranges of the source, each
   * pinned to the source's ETag so a concurrent writer fails the copy instead
   * of mixing two versions. A failed copy is aborted and leaves nothing.
   */
  private async _copyInParts(pair: ICopyPair, size: number): Promise<string> {
    const { sdk, client } = await this._client();
    const source = await this._send(
      client,
      new sdk.HeadObjectCommand({ Bucket: pair.srcBucket, Key: pair.srcKey })
    );
    const created = await this._send(
      client,
      new sdk.CreateMultipartUploadCommand({
        Bucket: pair.dstBucket,
        Key: pair.dstKey,
        ContentType: source.ContentType,
        Metadata: source.Metadata
      })
    );
    const uploadId = created.UploadId;
    if (!uploadId) {
      throw new S3Error('InvalidResponse', 'S3 returned no upload id');
    }
    const partBytes = Math.max(this.copyPartBytes, Math.ceil(size / 10000));
    const ranges: { part: number; first: number; last: number }[] = [];
    for (let first = 0; first < size; first += partBytes) {
      const last = Math.min(first + partBytes, size) - 1;
      ranges.push({ part: ranges.length + 1, first, last });
    }
    try {
      const etags = await mapConcurrently(
        ranges,
        COPY_PART_CONCURRENCY,
        async range => {
          const out = await this._send(
            client,
            new sdk.UploadPartCopyCommand({
              Bucket: pair.dstBucket,
              Key: pair.dstKey,
              UploadId: uploadId,
              PartNumber: range.part,
              CopySource: copySource(pair.srcBucket, pair.srcKey),
              CopySourceRange: `bytes=${range.first}-${range.last}`,
              CopySourceIfMatch: source.ETag
            })
          );
          return out.CopyPartResult?.ETag ?? '';
        }
      );
      const parts = ranges.map((range, i) => ({
        PartNumber: range.part,
        ETag: etags[i]
      }));
      return await this.completeMultipart(
        pair.dstBucket,
        pair.dstKey,
        uploadId,
        parts
      );
    } catch (error) {
      await this.abortMultipart(pair.dstBucket, pair.dstKey, uploadId).catch(
        () => undefined
      );
      throw error;
    }
  }

  /**
   * Copy many objects in parallel, with bounded concurrency.
   *
   * Every copy is attempted; failures are reported, not thrown.
   */
  async copyMany(
    pairs: ICopyPair[],
    onProgress?: ProgressCallback
  ): Promise<IBatchReport<ICopyPair>> {
    const report: IBatchReport<ICopyPair> = { succeeded: [], failed: [] };
    let done = 0;
    await mapConcurrently(pairs, this.copyConcurrency, async pair => {
      try {
        await this.copy(pair);
        report.succeeded.push(pair);
      } catch (error) {
        report.failed.push({ item: pair, error: toS3Error(error) });
      }
      done++;
      onProgress?.(done, pairs.length);
    });
    return report;
  }

  /**
   * Delete one object.
   */
  async deleteOne(bucket: string, key: string): Promise<void> {
    const { sdk, client } = await this._client();
    await this._send(
      client,
      new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key })
    );
  }

  /**
   * Delete many objects with DeleteObjects, at most 1000 keys per call.
   *
   * Per-key errors reported by S3 (and whole failed batches) come back in
   * `failed`; nothing is thrown.
   */
  async deleteMany(
    bucket: string,
    keys: string[],
    onProgress?: ProgressCallback
  ): Promise<IBatchReport<string>> {
    const { sdk, client } = await this._client();
    const report: IBatchReport<string> = { succeeded: [], failed: [] };
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      try {
        const out = await this._send(
          client,
          new sdk.DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: batch.map(Key => ({ Key })), Quiet: false }
          })
        );
        const failedKeys = new Set<string>();
        for (const err of out.Errors ?? []) {
          const key = err.Key ?? '';
          failedKeys.add(key);
          report.failed.push({
            item: key,
            error: new S3Error(
              err.Code ?? 'InternalError',
              err.Message ?? err.Code ?? 'delete failed'
            )
          });
        }
        for (const key of batch) {
          if (!failedKeys.has(key)) {
            report.succeeded.push(key);
          }
        }
      } catch (error) {
        const s3error = toS3Error(error);
        for (const key of batch) {
          report.failed.push({ item: key, error: s3error });
        }
      }
      onProgress?.(Math.min(i + DELETE_BATCH, keys.length), keys.length);
    }
    return report;
  }

  /**
   * List the buckets the user can see.
   *
   * @returns the bucket names, or `null` when the role may not list buckets
   *   (AccessDenied): the pinned roots are then all there is.
   */
  async listBuckets(): Promise<string[] | null> {
    const { sdk, client } = await this._client();
    try {
      const out = await this._send(client, new sdk.ListBucketsCommand({}));
      return (out.Buckets ?? [])
        .map((b: { Name?: string }) => b.Name ?? '')
        .filter((name: string) => name !== '');
    } catch (error) {
      if (error instanceof S3Error && error.code === 'AccessDenied') {
        return null;
      }
      throw error;
    }
  }

  /**
   * The gateway URL that downloads an object as an attachment.
   *
   * A plain browser navigation to it carries the Jupyter cookie.
   */
  downloadUrl(bucket: string, key: string): string {
    return (
      this.endpoint.replace(/\/+$/, '') +
      '/' +
      encodePathSegment(bucket) +
      '/' +
      key.split('/').map(encodePathSegment).join('/') +
      '?response-content-disposition=attachment'
    );
  }

  /**
   * Dispose of the SDK client.
   */
  dispose(): void {
    void this._clientPromise?.then(({ client }) => client.destroy());
    this._clientPromise = null;
  }

  /**
   * Send a command, turning every failure into an `S3Error`.
   */
  private async _send<O>(
    client: S3Client,
    command: { input: unknown } & object
  ): Promise<O & any> {
    try {
      return await client.send(command as any);
    } catch (error) {
      throw toS3Error(error);
    }
  }

  /**
   * Build the SDK client once, on first use.
   */
  private _client(): Promise<{ sdk: SDK; client: S3Client }> {
    if (!this._clientPromise) {
      this._clientPromise = this._createClient();
      // Let a failed import be retried next time.
      this._clientPromise.catch(() => {
        this._clientPromise = null;
      });
    }
    return this._clientPromise;
  }

  private async _createClient(): Promise<{ sdk: SDK; client: S3Client }> {
    const sdk = await import('@aws-sdk/client-s3');
    const settings = this.serverSettings;
    const config: S3ClientConfig = {
      endpoint: this.endpoint,
      region: this.region || 'us-east-1',
      forcePathStyle: true,
      // The gateway signs; the browser never holds keys. The SDK still wants
      // credentials to exist before it calls the (no-op) signer.
      credentials: { accessKeyId: 'smallfry', secretAccessKey: 'smallfry' },
      signer: { sign: async (request: any) => request },
      // Keep requests plain: no checksum trailers or 100-continue handshakes
      // for the gateway to deal with, no region redirects to other hosts.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      followRegionRedirects: false,
      disableS3ExpressSessionAuth: true,
      maxAttempts: 3
    };
    (config as any).expectContinueHeader = false;
    if (typeof window !== 'undefined' && typeof document !== 'undefined') {
      // Browser: send the Jupyter cookie with every call (options object for
      // the SDK's default fetch handler).
      config.requestHandler = { credentials: 'same-origin' } as any;
    }
    const client = new sdk.S3Client(config);
    client.middlewareStack.add(
      (next: any) => async (args: any) => {
        const request = args.request;
        if (request && request.headers) {
          if (settings.token) {
            request.headers['authorization'] = `token ${settings.token}`;
          }
          const xsrf = readCookie('_xsrf');
          if (xsrf !== undefined) {
            request.headers['x-xsrftoken'] = xsrf;
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
        if (response && response.statusCode >= 400) {
          // The gateway marks its own errors (not S3's) with a code header
          // and a JSON {"message", "code"} body; Jupyter's own refusals
          // (not logged in) are JSON too. S3's errors are XML.
          const marker = headerValue(response.headers, 'x-smallfry-error');
          const contentType = headerValue(response.headers, 'content-type');
          let message: string | null = null;
          let isGateway = marker !== '';
          if (contentType.includes('json')) {
            // Read the body once; hand it back to the SDK if it is not ours.
            const bytes = await readBody(response.body);
            response.body = bytes;
            try {
              const parsed = JSON.parse(new TextDecoder().decode(bytes));
              if (parsed && typeof parsed.message === 'string') {
                message = parsed.message;
                isGateway = true;
              }
            } catch {
              // not JSON: S3's answer, let the SDK parse it
            }
          }
          if (isGateway) {
            throw new S3Error(
              'GatewayError',
              message ||
                (marker
                  ? `${marker} (HTTP ${response.statusCode})`
                  : `HTTP ${response.statusCode}`),
              response.statusCode,
              true,
              marker || undefined
            );
          }
        }
        return result;
      },
      {
        relation: 'after',
        toMiddleware: 'deserializerMiddleware',
        name: 'smallfryGatewayErrors'
      }
    );
    return { sdk, client };
  }

  private _clientPromise: Promise<{ sdk: SDK; client: S3Client }> | null = null;
}

/**
 * A namespace for S3Gateway statics.
 */
export namespace S3Gateway {
  /**
   * Options to create a gateway client.
   */
  export interface IOptions {
    /** Jupyter server connection settings (base URL, token). */
    serverSettings: ServerConnection.ISettings;
    /** Gateway path relative to the base URL, e.g. "smallfry/aws/s3". */
    gatewayPath: string;
    /** Region used for signing. */
    region: string;
    /** How many copies run at once (default 8). */
    copyConcurrency?: number;
    /** Copy objects above this many bytes in parts (default 5 GiB). */
    multipartCopyAbove?: number;
    /** The smallest part of a multipart copy (default 512 MiB). */
    copyPartBytes?: number;
  }
}

/**
 * Turn whatever the SDK (or the network) threw into an `S3Error`.
 */
export function toS3Error(error: unknown): S3Error {
  if (error instanceof S3Error) {
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
  return new S3Error(code, message, status);
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

/**
 * Encode one path segment for a URL, leaving nothing S3 could misread.
 */
function encodePathSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    c => '%' + c.charCodeAt(0).toString(16).toUpperCase()
  );
}

/**
 * The `x-amz-copy-source` value: bucket and URL-encoded key.
 */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodePathSegment).join('/')}`;
}

function toSummary(o: _Object): IObjectSummary {
  return {
    key: o.Key ?? '',
    size: o.Size ?? 0,
    lastModified: o.LastModified ?? new Date(0),
    etag: o.ETag ?? ''
  };
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

function destroyBody(body: any): void {
  try {
    if (typeof body?.destroy === 'function') {
      body.destroy();
    } else if (typeof body?.cancel === 'function') {
      void body.cancel();
    }
  } catch {
    // nothing to release
  }
}

const DELETE_BATCH = 1000;
