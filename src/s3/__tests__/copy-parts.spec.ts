/**
 * @jest-environment node
 */
/**
 * Objects above S3's 5 GiB single-copy limit are copied and renamed with
 * UploadPartCopy. The limit is lowered here so a 20 MiB object takes that
 * path against the real gateway and S3 server; the code path is the same.
 */
import { randomBytes } from 'crypto';

import { getConfig } from '../../api';
import { BrowserS3Client } from '../client';
import { useBucket } from '../../__tests__/harness/fixture';
import { driveOver } from '../../__tests__/harness/recording';
import {
  BUCKET,
  ROOT,
  serverSettings,
  uniqueFolder
} from '../../__tests__/harness/servers';

const MiB = 1024 * 1024;

async function gatewayWithSmallParts(): Promise<BrowserS3Client> {
  const settings = serverSettings();
  const config = await getConfig(settings);
  return new BrowserS3Client({
    serverSettings: settings,
    gatewayPath: config.gateway.s3,
    region: config.region,
    multipartCopyAbove: 8 * MiB,
    copyPartBytes: 8 * MiB
  });
}

describe('copies larger than the single-copy limit', () => {
  const direct = useBucket();
  const folder = uniqueFolder('copy-parts');
  const bytes = randomBytes(20 * MiB);

  beforeAll(async () => {
    await direct.bucket.put(`${folder}/big.parquet`, bytes, {
      ContentType: 'application/vnd.apache.parquet',
      Metadata: { owner: 'alice' }
    });
  });

  it('copies in parts, byte-exact, keeping type and metadata', async () => {
    const gateway = await gatewayWithSmallParts();
    await gateway.copy({
      srcBucket: BUCKET,
      srcKey: `${folder}/big.parquet`,
      dstBucket: BUCKET,
      dstKey: `${folder}/copy.parquet`,
      size: bytes.length
    });
    const { bucket } = direct;
    const head = await bucket.head(`${folder}/copy.parquet`);
    expect(head.ETag).toMatch(/-3"$/); // 8 + 8 + 4 MiB
    expect(head.ContentType).toBe('application/vnd.apache.parquet');
    expect(head.Metadata).toEqual({ owner: 'alice' });
    expect((await bucket.bytes(`${folder}/copy.parquet`)).equals(bytes)).toBe(
      true
    );
    expect(await bucket.pendingUploads(`${folder}/`)).toBe(0);
  });

  it('copies objects under the limit with one CopyObject', async () => {
    const gateway = await gatewayWithSmallParts();
    await direct.bucket.put(`${folder}/small.txt`, 'hello');
    await gateway.copy({
      srcBucket: BUCKET,
      srcKey: `${folder}/small.txt`,
      dstBucket: BUCKET,
      dstKey: `${folder}/small-copy.txt`,
      size: 5
    });
    const head = await direct.bucket.head(`${folder}/small-copy.txt`);
    expect(head.ETag).not.toContain('-');
  });

  it('renames a large file through the drive', async () => {
    const { drive } = driveOver(await gatewayWithSmallParts(), {
      roots: (await getConfig(serverSettings())).roots
    });
    const model = await drive.rename(
      `${ROOT}/${folder}/big.parquet`,
      `${ROOT}/${folder}/renamed.parquet`
    );
    expect(model.size).toBe(bytes.length);
    const { bucket } = direct;
    expect(await bucket.keysUnder(`${folder}/`)).not.toContain(
      `${folder}/big.parquet`
    );
    expect(
      (await bucket.bytes(`${folder}/renamed.parquet`)).equals(bytes)
    ).toBe(true);
    drive.dispose();
  });

  it('leaves no upload behind when the source is gone', async () => {
    const gateway = await gatewayWithSmallParts();
    await expect(
      gateway.copy({
        srcBucket: BUCKET,
        srcKey: `${folder}/missing.bin`,
        dstBucket: BUCKET,
        dstKey: `${folder}/never.bin`,
        size: 20 * MiB
      })
    ).rejects.toMatchObject({ status: 404 });
    expect(await direct.bucket.pendingUploads(`${folder}/never`)).toBe(0);
  });
});
