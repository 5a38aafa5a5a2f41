/**
 * What the specs need to reach the servers started by the global setup: a
 * drive wired exactly like the plugin wires it (configuration from the
 * server, S3 through the gateway), and a second S3 client that goes straight
 * to the S3 server, to check what really landed there.
 */
import {
  CreateBucketCommand,
  HeadBucketCommand,
  S3Client
} from '@aws-sdk/client-s3';

import { getConfig, IServerConfig } from '../../api';
import { BrowserS3Client } from '../../s3/client';
import { IProgressReporter, IS3DriveFeedback, S3Drive } from '../../s3/drive';
import { serverSettings, uniqueName } from './connection';

export { serverSettings };

/** The bucket the Jupyter server is configured with as its only root. */
export const BUCKET = 'smallfry-test';
/** Its root name in the drive. */
export const ROOT = 'smallfry-test';

/**
 * An S3 client that talks to moto directly, with real SigV4 signing.
 */
export function directS3(): S3Client {
  return new S3Client({
    endpoint: process.env.SMALLFRY_TEST_MOTO_URL,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }
  });
}

/**
 * Create the test bucket once (idempotent).
 */
export async function ensureBucket(s3: S3Client): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }
}

/**
 * Records what the drive told the user.
 */
export class RecordingFeedback implements IS3DriveFeedback {
  errors: string[] = [];
  progressMessages: string[] = [];
  finished: { message: string; ok: boolean }[] = [];

  error(message: string): void {
    this.errors.push(message);
  }

  progress(message: string): IProgressReporter {
    this.progressMessages.push(message);
    return {
      update: (m: string) => {
        this.progressMessages.push(m);
      },
      done: (m: string, ok: boolean) => {
        this.finished.push({ message: m, ok });
      }
    };
  }
}

/**
 * A drive over the given S3 client, recording what it tells the user.
 */
export function driveOver(
  client: BrowserS3Client,
  options: Omit<S3Drive.IOptions, 'client' | 'feedback'>
): { drive: S3Drive; feedback: RecordingFeedback } {
  const feedback = new RecordingFeedback();
  return { drive: new S3Drive({ ...options, client, feedback }), feedback };
}

/**
 * Build a drive the way the plugin does: read the server configuration, then
 * point the S3 client at the gateway it names.
 */
export async function makeDrive(
  overrides: {
    pageSize?: number;
    copyConcurrency?: number;
    baseUrl?: string;
    roots?: IServerConfig['roots'];
    maxOpenBytes?: number;
  } = {}
): Promise<{
  drive: S3Drive;
  config: IServerConfig;
  feedback: RecordingFeedback;
}> {
  const settings = serverSettings(overrides.baseUrl);
  const config = await getConfig(settings);
  const client = new BrowserS3Client({
    serverSettings: settings,
    gatewayPath: config.gateway.s3,
    region: config.region,
    copyConcurrency: overrides.copyConcurrency
  });
  const { drive, feedback } = driveOver(client, {
    roots: overrides.roots ?? config.roots,
    listAllBuckets: config.list_all_buckets,
    pageSize: overrides.pageSize ?? config.page_size,
    maxOpenBytes: overrides.maxOpenBytes
  });
  return { drive, config, feedback };
}

/** A fresh, unique folder name for one test. */
export const uniqueFolder = uniqueName;
