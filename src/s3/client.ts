/**
 * The only module that talks to S3.
 *
 * `BrowserS3Client` is the browser's S3 client: it drives the official
 * `@aws-sdk/client-s3` against the server extension's same-origin AWS gateway,
 * through the one client factory every AWS service uses
 * (`createGatewayClient` in `src/core/gateway.ts`: Jupyter auth, XSRF, no
 * signing in the browser, one error mapping). The SDK is imported lazily so
 * that JupyterLab starts without loading it.
 */
import { URLExt } from '@jupyterlab/coreutils';
import type { ServerConnection } from '@jupyterlab/services';
import type {
  _Object,
  CompletedPart,
  S3Client,
  S3ClientConfig
} from '@aws-sdk/client-s3';

import { AwsError, createGatewayClient, toAwsError } from '../core/gateway';
import { mapConcurrently } from './concurrency';

export { AwsError, toAwsError };

type SDK = typeof import('@aws-sdk/client-s3');

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
  failed: { item: T; error: AwsError }[];
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
 * The browser's S3 client: the S3 operations the drive needs, sent through
 * the server's AWS gateway (which signs them; this is not the gateway).
 */
export class BrowserS3Client {
  /**
   * Create the browser's S3 client.
   *
   * @param options - where the gateway is and how to reach it
   */
  constructor(options: BrowserS3Client.IOptions) {
    this.serverSettings = options.serverSettings;
    this.region = options.region;
    this.gatewayPath = options.gatewayPath;
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
  /** Gateway path relative to the base URL, e.g. "smallfry/aws/s3". */
  readonly gatewayPath: string;
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
      throw new AwsError(
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
        Body: wireBody(body),
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
      throw new AwsError('InvalidResponse', 'S3 returned no upload id');
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
        Body: wireBody(body),
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
      throw new AwsError('InvalidResponse', 'S3 returned no upload id');
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
        report.failed.push({ item: pair, error: toAwsError(error) });
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
            error: new AwsError(
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
        const s3error = toAwsError(error);
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
      if (error instanceof AwsError && error.code === 'AccessDenied') {
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
   * Send a command, turning every failure into an `AwsError`.
   */
  private async _send<O>(
    client: S3Client,
    command: { input: unknown } & object
  ): Promise<O & any> {
    try {
      return await client.send(command as any);
    } catch (error) {
      throw toAwsError(error);
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
    const config: Omit<
      S3ClientConfig,
      'endpoint' | 'region' | 'credentials' | 'signer'
    > = {
      forcePathStyle: true,
      // Keep requests plain: no checksum trailers or 100-continue handshakes
      // for the gateway to deal with, no region redirects to other hosts.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      followRegionRedirects: false,
      disableS3ExpressSessionAuth: true,
      maxAttempts: 3
    };
    (config as any).expectContinueHeader = false;
    const client = createGatewayClient(sdk.S3Client, {
      serverSettings: this.serverSettings,
      gatewayPath: this.gatewayPath,
      region: this.region,
      config
    });
    return { sdk, client };
  }

  private _clientPromise: Promise<{ sdk: SDK; client: S3Client }> | null = null;
}

/**
 * A request body as fetch sends it fastest.
 *
 * Chromium copies a typed-array body on the main thread before sending it
 * (measured per 8 MiB part: ~20 ms blocked in a plain browser, 0.4-0.7 s
 * when DevTools or an automation driver watches the network, as in the
 * browser benchmark); a Blob of the same bytes is handed over in ~1 ms.
 * Node's HTTP handler (jest) wants the bytes themselves.
 */
function wireBody(body: Uint8Array): Uint8Array | Blob {
  return typeof window !== 'undefined' && typeof Blob !== 'undefined'
    ? new Blob([body as Uint8Array<ArrayBuffer>])
    : body;
}

/**
 * A namespace for BrowserS3Client statics.
 */
export namespace BrowserS3Client {
  /**
   * Options to create the browser's S3 client.
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
