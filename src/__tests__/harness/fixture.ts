/**
 * The set-up every S3 drive spec shares, registered once per `describe`: the
 * test bucket on the S3 server, reached directly to check what really landed
 * there, and a drive wired like the plugin wires it.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  HeadObjectCommandOutput,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectCommandInput,
  S3Client
} from '@aws-sdk/client-s3';

import { IServerConfig } from '../../api';
import { S3Drive } from '../../s3/drive';
import { RecordingFeedback } from './recording';
import { BUCKET, directS3, ensureBucket, makeDrive } from './servers';

/**
 * The test bucket as S3 itself sees it, bypassing the drive and the gateway.
 */
export class TestBucket {
  constructor(readonly s3: S3Client) {}

  /** Write an object the way another tool would. */
  async put(
    key: string,
    body: string | Uint8Array,
    extra: Partial<PutObjectCommandInput> = {}
  ): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: typeof body === 'string' ? Buffer.from(body) : body,
        ...extra
      })
    );
  }

  /** The stored bytes of an object. */
  async bytes(key: string): Promise<Buffer> {
    const out = await this.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: key })
    );
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  /** The stored bytes of an object, as UTF-8 text. */
  async text(key: string): Promise<string> {
    return (await this.bytes(key)).toString('utf-8');
  }

  /** HeadObject; rejects with `name: 'NotFound'` for a missing key. */
  head(key: string): Promise<HeadObjectCommandOutput> {
    return this.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  }

  /** Every key under a prefix, sorted, across listing pages. */
  async keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: BUCKET,
          Prefix: prefix,
          ContinuationToken: token
        })
      );
      keys.push(...(out.Contents ?? []).map(o => o.Key!));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  /** How many multipart uploads are started and not finished under a prefix. */
  async pendingUploads(prefix: string): Promise<number> {
    const out = await this.s3.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix })
    );
    return (out.Uploads ?? []).length;
  }
}

/**
 * Make sure the test bucket exists before the tests of the enclosing
 * `describe`, and close the direct S3 client after them.
 *
 * Returns the bucket; read it inside tests, not while jest collects them.
 */
export function useBucket(): { readonly bucket: TestBucket } {
  let bucket: TestBucket | null = null;
  beforeAll(async () => {
    const s3 = directS3();
    await ensureBucket(s3);
    bucket = new TestBucket(s3);
  });
  afterAll(() => {
    bucket?.s3.destroy();
  });
  return {
    get bucket() {
      return ready(bucket, 'bucket');
    }
  };
}

/**
 * What a spec of the drive against the real servers works with.
 */
export interface IDriveFixture {
  /** The test bucket, straight on S3. */
  readonly bucket: TestBucket;
  /** A drive wired like the plugin wires it, shared by the tests. */
  readonly drive: S3Drive;
  /** What that drive told the user. */
  readonly feedback: RecordingFeedback;
  /** The configuration the Jupyter server gave the drive. */
  readonly config: IServerConfig;
}

/**
 * Register, for the enclosing `describe`, the test bucket and a drive on the
 * servers of the global setup; the drive is disposed after the tests.
 *
 * Returns accessors; read them inside tests, not while jest collects them.
 */
export function useDriveFixture(): IDriveFixture {
  const direct = useBucket();
  let made: Awaited<ReturnType<typeof makeDrive>> | null = null;
  beforeAll(async () => {
    made = await makeDrive();
  });
  afterAll(() => {
    made?.drive.dispose();
  });
  return {
    get bucket() {
      return direct.bucket;
    },
    get drive() {
      return ready(made, 'drive').drive;
    },
    get feedback() {
      return ready(made, 'drive').feedback;
    },
    get config() {
      return ready(made, 'drive').config;
    }
  };
}

function ready<T>(value: T | null, what: string): T {
  if (value === null) {
    throw new Error(
      `The ${what} is set up in beforeAll: use it inside a test or hook.`
    );
  }
  return value;
}
