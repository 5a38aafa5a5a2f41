/**
 * @jest-environment node
 */
/**
 * ChunkedUpload sends parts while the next chunks arrive, a bounded number
 * at a time, against the real gateway and S3 server.
 *
 * The client is the real one, subclassed only to watch its UploadPart calls:
 * how many are in flight and how many bytes they hold (the overlap and the
 * memory bound are observed, not timed). Failures are S3's own answers: a
 * multipart upload aborted behind the uploader's back, and one part that S3
 * refuses (sent under an upload id S3 does not know: no real fault hits one
 * part while its upload survives, so the test picks the part).
 */
import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand
} from '@aws-sdk/client-s3';
import { randomBytes } from 'crypto';

import { getConfig } from '../../api';
import { BrowserS3Client } from '../client';
import { ChunkedUpload } from '../upload';
import { useBucket } from '../../__tests__/harness/fixture';
import {
  BUCKET,
  S3_KIND,
  serverSettings,
  uniqueFolder
} from '../../__tests__/harness/servers';

const MiB = 1024 * 1024;
/** S3's smallest part but the last, so many parts stay cheap to send. */
const PART = 5 * MiB;

/**
 * The real gateway client, watching its UploadPart calls; the parts in
 * `refused` go to S3 under an upload id it does not know, so S3 refuses them.
 */
class WatchedClient extends BrowserS3Client {
  inFlight = 0;
  maxInFlight = 0;
  inFlightBytes = 0;
  maxInFlightBytes = 0;
  refused = new Set<number>();
  private _settled = new Map<number, () => void>();
  private _settledPromises = new Map<number, Promise<void>>();

  /** Resolves once part `partNumber` was answered (either way). */
  settled(partNumber: number): Promise<void> {
    if (!this._settledPromises.has(partNumber)) {
      this._settledPromises.set(
        partNumber,
        new Promise(resolve => this._settled.set(partNumber, resolve))
      );
    }
    return this._settledPromises.get(partNumber)!;
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array
  ): Promise<string> {
    this.inFlight++;
    this.inFlightBytes += body.byteLength;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.maxInFlightBytes = Math.max(this.maxInFlightBytes, this.inFlightBytes);
    try {
      const id = this.refused.has(partNumber)
        ? `${uploadId}-unknown`
        : uploadId;
      return await super.uploadPart(bucket, key, id, partNumber, body);
    } finally {
      this.inFlight--;
      this.inFlightBytes -= body.byteLength;
      void this.settled(partNumber);
      this._settled.get(partNumber)!();
    }
  }
}

/** A client of the gateway of the Jupyter server under test. */
async function gatewayClient(): Promise<WatchedClient> {
  const settings = serverSettings();
  const config = await getConfig(settings);
  return new WatchedClient({
    serverSettings: settings,
    gatewayPath: config.gateway.s3,
    region: config.region
  });
}

/** The 1 MiB chunks JupyterLab's uploader would send for `bytes`. */
function chunksOf(bytes: Buffer): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += MiB) {
    chunks.push(bytes.subarray(at, at + MiB));
  }
  return chunks;
}

describe('ChunkedUpload', () => {
  const direct = useBucket();
  const folder = uniqueFolder('chunked');

  it('sends parts side by side, holds a bounded number, stores the bytes exactly', async () => {
    const client = await gatewayClient();
    const key = `${folder}/many parts.bin`;
    // Six full parts and a short last one.
    const bytes = randomBytes(6 * PART + 3 * MiB);
    const upload = new ChunkedUpload({
      client,
      bucket: BUCKET,
      key,
      contentType: 'application/octet-stream',
      partSize: PART,
      concurrency: 3
    });
    let maxHeld = 0;
    for (const chunk of chunksOf(bytes)) {
      await upload.append(chunk);
      maxHeld = Math.max(maxHeld, upload.heldBytes);
    }
    expect(upload.total).toBe(bytes.length);
    const etag = await upload.finish();

    expect(etag).toMatch(/-7"$/);
    const { bucket } = direct;
    expect((await bucket.bytes(key)).equals(bytes)).toBe(true);
    expect((await bucket.head(key)).ContentType).toBe(
      'application/octet-stream'
    );
    expect(await bucket.pendingUploads(`${folder}/many`)).toBe(0);
    // The parts overlapped up to the limit and never beyond it...
    expect(client.maxInFlight).toBe(3);
    expect(client.maxInFlightBytes).toBeLessThanOrEqual(3 * PART);
    // ...and the upload never held more than those, one part waiting for a
    // free slot and one chunk.
    expect(maxHeld).toBeGreaterThan(PART);
    expect(maxHeld).toBeLessThanOrEqual(4 * PART + MiB);
    expect(upload.heldBytes).toBe(0);
  });

  it('finishes an object of whole parts without an empty last part', async () => {
    const client = await gatewayClient();
    const key = `${folder}/two parts.bin`;
    const bytes = randomBytes(2 * PART);
    const upload = new ChunkedUpload({
      client,
      bucket: BUCKET,
      key,
      contentType: 'application/octet-stream',
      partSize: PART
    });
    for (const chunk of chunksOf(bytes)) {
      await upload.append(chunk);
    }
    expect(await upload.finish()).toMatch(/-2"$/);
    expect((await direct.bucket.bytes(key)).equals(bytes)).toBe(true);
  });

  it('aborts the multipart upload when a part fails, keeping no parts', async () => {
    const client = await gatewayClient();
    client.refused.add(3);
    const key = `${folder}/fails.bin`;
    const upload = new ChunkedUpload({
      client,
      bucket: BUCKET,
      key,
      contentType: 'application/octet-stream',
      partSize: PART,
      concurrency: 2
    });
    const chunks = chunksOf(randomBytes(8 * PART));
    const { bucket } = direct;
    let failure: unknown = null;
    let sent = 0;
    for (const chunk of chunks) {
      try {
        await upload.append(chunk);
      } catch (error) {
        failure = error;
        break;
      }
      sent++;
      if (sent === PART / MiB) {
        // The upload exists on S3 once its first part is on its way.
        expect(await bucket.pendingUploads(key)).toBe(1);
      }
    }
    if (!failure) {
      failure = await upload.finish().then(
        () => null,
        error => error
      );
    }
    // A later chunk (or the finish) says which part failed and why.
    expect(failure).toMatchObject({
      message: expect.stringMatching(
        new RegExp(`^Part 3 of s3://${BUCKET}/${key} could not be uploaded: `)
      )
    });
    expect(sent).toBeGreaterThanOrEqual(3 * (PART / MiB));
    // Parts had reached S3 (the upload was listed), yet nothing is left.
    expect(await bucket.pendingUploads(key)).toBe(0);
    await expect(bucket.head(key)).rejects.toMatchObject({
      name: 'NotFound'
    });
    // The upload stays failed.
    await expect(upload.finish()).rejects.toBe(failure);
    await expect(upload.append(new Uint8Array(1))).rejects.toBe(failure);
  });

  it('reports a multipart upload aborted behind its back', async () => {
    const client = await gatewayClient();
    const key = `${folder}/aborted elsewhere.bin`;
    const upload = new ChunkedUpload({
      client,
      bucket: BUCKET,
      key,
      contentType: 'application/octet-stream',
      partSize: PART
    });
    const chunks = chunksOf(randomBytes(3 * PART));
    for (const chunk of chunks.slice(0, PART / MiB)) {
      await upload.append(chunk);
    }
    // Another tool (or a lifecycle rule) aborts the upload, after its first
    // part landed.
    await client.settled(1);
    const { bucket } = direct;
    const listed = await bucket.s3.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key })
    );
    expect(listed.Uploads).toHaveLength(1);
    await bucket.s3.send(
      new AbortMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: listed.Uploads![0].UploadId
      })
    );
    const failure = await (async () => {
      for (const chunk of chunks.slice(PART / MiB)) {
        await upload.append(chunk);
      }
      await upload.finish();
    })().then(
      () => null,
      error => error
    );
    expect(failure).toMatchObject({
      // S3 (and Ceph's radosgw) answer NoSuchUpload; moto 5 fails on its own
      // KeyError with an HTML "500 Internal Server Error" page.
      ...(S3_KIND === 'moto'
        ? { status: 500 }
        : { code: 'NoSuchUpload', status: 404 }),
      message: expect.stringMatching(
        new RegExp(`^Part \\d of s3://${BUCKET}/${key} could not be uploaded`)
      )
    });
    await expect(bucket.head(key)).rejects.toMatchObject({
      name: 'NotFound'
    });
    expect(await bucket.pendingUploads(key)).toBe(0);
  });
});
