/**
 * Assembling JupyterLab's upload chunks into an S3 object.
 *
 * JupyterLab's uploader sends a file as 1 MiB chunks, one `contents.save`
 * after another, and waits for each. Waiting for S3 on every part made the
 * browser idle while each part travelled (measured: one 8 MiB part at a time,
 * about 7 MiB/s), so parts are sent in the background, a few at once, and a
 * chunk is acknowledged as soon as it is buffered; only a full set of parts in
 * flight makes the uploader wait, which bounds memory.
 */
import { AwsError, BrowserS3Client, toAwsError } from './client';

/**
 * Size of the parts sent to S3 when assembling JupyterLab's 1 MiB upload
 * chunks: above S3's 5 MiB minimum, small enough to keep memory flat.
 */
export const PART_SIZE = 8 * 1024 * 1024;

/**
 * How many parts of one upload are sent at once. With the part waiting for
 * a free slot, an upload holds at most four parts (32 MiB) and one chunk.
 */
export const PARTS_IN_FLIGHT = 3;

/**
 * One object being written from a sequence of chunks.
 *
 * An object that ends up no larger than one part is written with a single
 * PutObject. A larger one becomes a multipart upload, started when the first
 * part is full; its parts go to S3 while the next chunks arrive, at most
 * `concurrency` at a time. Memory holds those parts plus the one being
 * filled (see {@link ChunkedUpload.heldBytes}).
 *
 * A part that fails fails the next `append` or `finish` with an error that
 * names the part, and the multipart upload is aborted (after the other parts
 * in flight settled), so S3 keeps no orphaned parts. `abort` does the same on
 * request.
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
    this.concurrency = Math.max(1, options.concurrency ?? PARTS_IN_FLIGHT);
  }

  /** Bucket written to. */
  readonly bucket: string;
  /** Key written to. */
  readonly key: string;
  /** Content-Type stored with the object. */
  readonly contentType: string;
  /** Bytes per part. */
  readonly partSize: number;
  /** Parts sent at once. */
  readonly concurrency: number;

  /** Bytes received so far. */
  get total(): number {
    return this._total;
  }

  /**
   * Bytes this upload holds in memory: the part being filled and the parts
   * waiting for, or on, the wire. At most `concurrency + 1` parts plus one
   * chunk.
   */
  get heldBytes(): number {
    return this._buffered + this._partBytes;
  }

  /**
   * Add the next chunk. Returns once the chunk is buffered; when it fills a
   * part, once that part is on its way (which waits while `concurrency`
   * parts are in flight).
   *
   * @throws the failure of an earlier part (the upload is then aborted), or
   *   an error if the upload was already finished or aborted
   */
  async append(bytes: Uint8Array): Promise<void> {
    await this._checkOpen();
    this._buffer.push(bytes);
    this._buffered += bytes.byteLength;
    this._total += bytes.byteLength;
    while (this._buffered >= this.partSize) {
      await this._sendPart(this.partSize);
    }
  }

  /**
   * Write what is left, wait for every part and finish the object.
   *
   * @returns the object's ETag (`"…-N"` for a multipart object)
   * @throws the first part failure or S3's refusal to complete; the
   *   multipart upload is then aborted
   */
  async finish(): Promise<string> {
    await this._checkOpen();
    this._state = 'finishing';
    try {
      if (this._nextPart === 0) {
        // Never reached a full part: one plain PutObject.
        const etag = await this._client.put(
          this.bucket,
          this.key,
          this._take(this._buffered),
          { contentType: this.contentType }
        );
        this._state = 'done';
        return etag;
      }
      if (this._buffered > 0) {
        await this._sendPart(this._buffered);
      }
      await this._settled();
      if (this._failure) {
        throw this._failure;
      }
      const etag = await this._client.completeMultipart(
        this.bucket,
        this.key,
        await this._started(),
        this._etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 }))
      );
      this._uploadId = null;
      this._state = 'done';
      return etag;
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  /**
   * Drop the buffered bytes and cancel the multipart upload, if started,
   * once the parts still in flight have settled (a part that lands after
   * the abort would otherwise be kept). Safe to call more than once.
   * Never throws: a failed abort is only logged (a bucket lifecycle rule
   * for incomplete uploads cleans up after it).
   */
  abort(): Promise<void> {
    if (this._state !== 'done') {
      this._state = 'aborted';
    }
    this._buffer = [];
    this._buffered = 0;
    this._aborting ??= this._cancel();
    return this._aborting;
  }

  /**
   * Throw what makes this upload unusable, aborting it after a failed part.
   */
  private async _checkOpen(): Promise<void> {
    if (this._failure) {
      await this.abort();
      throw this._failure;
    }
    if (this._state !== 'open') {
      throw new Error(
        `The upload of s3://${this.bucket}/${this.key} was already ${this._state === 'aborted' ? 'cancelled' : 'finished'}.`
      );
    }
  }

  /**
   * Take the next `size` bytes as the next part and put it on the wire once
   * fewer than `concurrency` parts are in flight.
   */
  private async _sendPart(size: number): Promise<void> {
    // Numbered and cut synchronously, so parts follow the bytes' order even
    // if appends overlap.
    const partNumber = ++this._nextPart;
    const body = this._take(size);
    this._partBytes += size;
    let sent = false;
    try {
      const uploadId = await this._started();
      while (this._inFlight.size >= this.concurrency) {
        await Promise.race(this._inFlight);
      }
      if (this._failure) {
        // An earlier part failed while this one waited: report that one.
        await this.abort();
        throw this._failure;
      }
      if (this._state === 'aborted') {
        throw new Error(
          `The upload of s3://${this.bucket}/${this.key} was cancelled.`
        );
      }
      const request = this._upload(uploadId, partNumber, body);
      this._inFlight.add(request);
      sent = true;
      void request.then(() => {
        this._inFlight.delete(request);
        this._partBytes -= size;
      });
    } finally {
      if (!sent) {
        this._partBytes -= size;
      }
    }
  }

  /**
   * Send one part; never rejects: a failure is kept for the next `append`
   * or `finish` and aborts the upload in the background, so S3 drops the
   * parts even if no other chunk ever comes.
   */
  private async _upload(
    uploadId: string,
    partNumber: number,
    body: Uint8Array
  ): Promise<void> {
    try {
      this._etags[partNumber - 1] = await this._client.uploadPart(
        this.bucket,
        this.key,
        uploadId,
        partNumber,
        body
      );
    } catch (error) {
      if (!this._failure) {
        const err = toAwsError(error);
        this._failure = new AwsError(
          err.code,
          `Part ${partNumber} of s3://${this.bucket}/${this.key} could not be uploaded: ${err.message}`,
          err.status,
          err.fromGateway,
          err.gatewayCode
        );
        // Not awaited: the abort waits for the parts in flight, this one
        // included.
        void this.abort();
      }
    }
  }

  /**
   * The multipart upload's id, created on first use (once, even when parts
   * ask for it concurrently).
   */
  private _started(): Promise<string> {
    this._creating ??= this._client
      .createMultipart(this.bucket, this.key, this.contentType)
      .then(uploadId => {
        this._uploadId = uploadId;
        return uploadId;
      });
    return this._creating;
  }

  /** Resolves when no part is in flight any more. */
  private async _settled(): Promise<void> {
    while (this._inFlight.size > 0) {
      await Promise.all(this._inFlight);
    }
  }

  private async _cancel(): Promise<void> {
    await this._settled();
    if (this._creating && this._uploadId === null) {
      // A CreateMultipartUpload still on its way would leave an upload.
      await this._creating.catch(() => undefined);
    }
    const uploadId = this._uploadId;
    if (uploadId === null || this._state === 'done') {
      return;
    }
    this._uploadId = null;
    try {
      await this._client.abortMultipart(this.bucket, this.key, uploadId);
    } catch (error) {
      console.warn('Could not abort the multipart upload of', this.key, error);
    }
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
  private _state: 'open' | 'finishing' | 'done' | 'aborted' = 'open';
  private _creating: Promise<string> | null = null;
  private _uploadId: string | null = null;
  private _aborting: Promise<void> | null = null;
  private _failure: AwsError | null = null;
  private _nextPart = 0;
  private _etags: string[] = [];
  private _inFlight = new Set<Promise<void>>();
  private _partBytes = 0;
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
    /** Parts sent at once (default `PARTS_IN_FLIGHT`). */
    concurrency?: number;
  }
}
