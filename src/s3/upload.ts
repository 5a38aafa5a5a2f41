/**
 * Assembling JupyterLab's upload chunks into an S3 object.
 */
import type { BrowserS3Client } from './client';

/**
 * Size of the parts sent to S3 when assembling JupyterLab's 1 MiB upload
 * chunks: above S3's 5 MiB minimum, small enough to keep memory flat.
 */
export const PART_SIZE = 8 * 1024 * 1024;

/**
 * One object being written from a sequence of chunks.
 *
 * Memory holds at most one part plus one chunk. An object that ends up
 * smaller than one part is written with a single PutObject; a larger one
 * becomes a real multipart upload (started when the first part is full),
 * which `abort` cancels so S3 keeps no orphaned parts.
 */
export class ChunkedUpload {
  /**
   * Start assembling an object.
   */
  constructor(options: ChunkedUpload.IOptions) {
    this._client = options.client;
    this.bucket = options.bucket;
    this.key = options.key;
    this.contentType = options.contentType;
    this.partSize = options.partSize ?? PART_SIZE;
  }

  /** Bucket written to. */
  readonly bucket: string;
  /** Key written to. */
  readonly key: string;
  /** Content-Type stored with the object. */
  readonly contentType: string;
  /** Bytes per part. */
  readonly partSize: number;

  /** Bytes received so far. */
  get total(): number {
    return this._total;
  }

  /**
   * Add the next chunk; full parts go to S3 right away.
   */
  async append(bytes: Uint8Array): Promise<void> {
    this._buffer.push(bytes);
    this._buffered += bytes.byteLength;
    this._total += bytes.byteLength;
    while (this._buffered >= this.partSize) {
      await this._flush(this.partSize);
    }
  }

  /**
   * Write what is left and finish the object.
   *
   * @returns the object's ETag (`"…-N"` for a multipart object)
   */
  async finish(): Promise<string> {
    if (this._uploadId === null) {
      return this._client.put(
        this.bucket,
        this.key,
        this._take(this._buffered),
        { contentType: this.contentType }
      );
    }
    if (this._buffered > 0) {
      await this._flush(this._buffered);
    }
    const etag = await this._client.completeMultipart(
      this.bucket,
      this.key,
      this._uploadId,
      this._parts
    );
    this._uploadId = null;
    return etag;
  }

  /**
   * Drop the buffered bytes and cancel the multipart upload, if started.
   * Never throws: a failed abort is only logged (a bucket lifecycle rule
   * for incomplete uploads cleans up after it).
   */
  async abort(): Promise<void> {
    this._buffer = [];
    this._buffered = 0;
    if (this._uploadId === null) {
      return;
    }
    const uploadId = this._uploadId;
    this._uploadId = null;
    try {
      await this._client.abortMultipart(this.bucket, this.key, uploadId);
    } catch (error) {
      console.warn('Could not abort the multipart upload of', this.key, error);
    }
  }

  private async _flush(size: number): Promise<void> {
    if (this._uploadId === null) {
      this._uploadId = await this._client.createMultipart(
        this.bucket,
        this.key,
        this.contentType
      );
    }
    const partNumber = this._parts.length + 1;
    const etag = await this._client.uploadPart(
      this.bucket,
      this.key,
      this._uploadId,
      partNumber,
      this._take(size)
    );
    this._parts.push({ ETag: etag, PartNumber: partNumber });
  }

  /**
   * Take `size` bytes from the front of the buffer.
   */
  private _take(size: number): Uint8Array {
    const out = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      const head = this._buffer[0];
      const need = size - offset;
      if (head.byteLength <= need) {
        out.set(head, offset);
        offset += head.byteLength;
        this._buffer.shift();
      } else {
        out.set(head.subarray(0, need), offset);
        this._buffer[0] = head.subarray(need);
        offset += need;
      }
    }
    this._buffered -= size;
    return out;
  }

  private _client: BrowserS3Client;
  private _uploadId: string | null = null;
  private _parts: { ETag: string; PartNumber: number }[] = [];
  private _buffer: Uint8Array[] = [];
  private _buffered = 0;
  private _total = 0;
}

/**
 * A namespace for ChunkedUpload statics.
 */
export namespace ChunkedUpload {
  /**
   * Options to start an upload.
   */
  export interface IOptions {
    /** The S3 client. */
    client: BrowserS3Client;
    /** Bucket. */
    bucket: string;
    /** Key. */
    key: string;
    /** Content-Type to store. */
    contentType: string;
    /** Bytes per part (default `PART_SIZE`). */
    partSize?: number;
  }
}
