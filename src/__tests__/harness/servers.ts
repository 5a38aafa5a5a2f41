/**
 * What the specs need to reach the servers started by the global setup: a
 * drive wired exactly like the plugin wires it (configuration from the
 * server, S3 through the gateway), a second S3 client that goes straight
 * to the S3 server, to check what really landed there, and which S3 server
 * this run uses (moto or Ceph's radosgw, `SMALLFRY_TEST_S3`).
 */
import {
  CreateBucketCommand,
  HeadBucketCommand,
  S3Client
} from '@aws-sdk/client-s3';

import { getConfig, IServerConfig } from '../../api';
import { BrowserS3Client } from '../../s3/client';
import { S3Drive } from '../../s3/drive';
import { serverSettings, uniqueName } from './connection';
import { driveOver, RecordingFeedback } from './recording';

export { serverSettings };

/** The bucket the Jupyter server is configured with as its only root. */
export const BUCKET = 'smallfry-test';
/** Its root name in the drive. */
export const ROOT = 'smallfry-test';

/** The kind of S3 server of this run: "moto" (default) or "ceph". */
export const S3_KIND = process.env.SMALLFRY_TEST_S3 || 'moto';

/**
 * `it` on moto; on another S3 server, a skipped test whose title says why.
 *
 * For tests of behaviour only moto has (its fake IAM/STS, a refusal that a
 * real server does differently or not at all), so the Ceph run reports them
 * as skipped with the reason instead of failing or silently passing.
 *
 * @param reason - what the other server lacks or does differently
 */
export function motoOnly(
  reason: string
): (name: string, fn: jest.ProvidesCallback, timeout?: number) => void {
  if (S3_KIND === 'moto') {
    return it;
  }
  return (name, fn, timeout) =>
    it.skip(`${name} [skipped on ${S3_KIND}: ${reason}]`, fn, timeout);
}

/**
 * An S3 client that talks to the S3 server directly, with real SigV4 signing
 * and the keys the server's launcher gave.
 */
export function directS3(): S3Client {
  const { env } = process;
  if (!env.SMALLFRY_TEST_S3_URL) {
    throw new Error('The jest global setup did not start the servers.');
  }
  return new S3Client({
    endpoint: env.SMALLFRY_TEST_S3_URL,
    region: env.SMALLFRY_TEST_S3_REGION,
    forcePathStyle: true,
    credentials: {
      accessKeyId: env.SMALLFRY_TEST_S3_ACCESS_KEY!,
      secretAccessKey: env.SMALLFRY_TEST_S3_SECRET_KEY!
    }
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
 * Build a drive the way the plugin does: read the server configuration, then
 * point the S3 client at the gateway it names.
 */
export async function makeDrive(
  overrides: {
    pageSize?: number;
    firstLookSize?: number;
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
    firstLookSize: overrides.firstLookSize,
    maxOpenBytes: overrides.maxOpenBytes
  });
  return { drive, config, feedback };
}

/** A fresh, unique folder name for one test. */
export const uniqueFolder = uniqueName;
