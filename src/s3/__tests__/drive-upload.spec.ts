/**
 * @jest-environment node
 */
/**
 * Chunked uploads (JupyterLab's uploader sends 1 MiB base64 chunks) become
 * real S3 multipart uploads, byte for byte.
 */
import { randomBytes } from 'crypto';

import { S3Drive } from '../drive';
import { useDriveFixture } from '../../__tests__/harness/fixture';
import { ROOT, uniqueFolder } from '../../__tests__/harness/servers';

const MiB = 1024 * 1024;

/** Upload bytes the way JupyterLab's FileBrowserModel does. */
async function upload(
  drive: S3Drive,
  path: string,
  bytes: Buffer
): Promise<any> {
  const chunks = Math.ceil(bytes.length / MiB);
  let model: any;
  for (let i = 0; i < chunks; i++) {
    const slice = bytes.subarray(i * MiB, (i + 1) * MiB);
    model = await drive.save(path, {
      type: 'file',
      format: 'base64',
      name: path.split('/').pop(),
      chunk: i === chunks - 1 ? -1 : i + 1,
      content: slice.toString('base64')
    });
  }
  return model;
}

describe('S3Drive uploads', () => {
  const fixture = useDriveFixture();
  const folder = uniqueFolder('up');

  it('turns a 20 MiB chunked upload into a multipart object, byte-exact', async () => {
    const { drive, bucket } = fixture;
    const bytes = randomBytes(20 * MiB);
    const path = `${ROOT}/${folder}/big random.bin`;
    const model = await upload(drive, path, bytes);
    expect(model).toMatchObject({ path, size: bytes.length, type: 'file' });
    const key = `${folder}/big random.bin`;
    const head = await bucket.head(key);
    // 8 + 8 + 4 MiB parts.
    expect(head.ETag).toMatch(/-3"$/);
    expect(head.ContentLength).toBe(bytes.length);
    const stored = await bucket.bytes(key);
    expect(stored.equals(bytes)).toBe(true);
    expect(await bucket.pendingUploads(`${folder}/`)).toBe(0);
  });

  it('still refuses to overwrite a multipart upload someone else replaced', async () => {
    // The drive remembers the uploaded object's version for the next save's
    // conflict check, even where S3 completes the upload without an ETag
    // (radosgw 16.2).
    const { drive, bucket } = fixture;
    const path = `${ROOT}/${folder}/then edited.txt`;
    await upload(drive, path, randomBytes(9 * MiB));
    await bucket.put(`${folder}/then edited.txt`, 'theirs');
    await expect(
      drive.save(path, { type: 'file', format: 'text', content: 'mine' })
    ).rejects.toMatchObject({
      response: { status: 409 },
      message: expect.stringContaining('changed on S3 by someone else')
    });
    expect(await bucket.text(`${folder}/then edited.txt`)).toBe('theirs');
  });

  it('writes a small chunked upload with one PutObject', async () => {
    const { drive, bucket } = fixture;
    const bytes = randomBytes(Math.floor(2.5 * MiB));
    const path = `${ROOT}/${folder}/small.bin`;
    await upload(drive, path, bytes);
    const head = await bucket.head(`${folder}/small.bin`);
    expect(head.ETag).not.toContain('-');
    expect(head.ContentLength).toBe(bytes.length);
  });

  it('aborts the multipart upload when a chunk fails', async () => {
    const { drive, bucket } = fixture;
    const path = `${ROOT}/${folder}/broken.bin`;
    const bytes = randomBytes(10 * MiB);
    for (let i = 0; i < 10; i++) {
      await drive.save(path, {
        type: 'file',
        format: 'base64',
        chunk: i + 1,
        content: bytes.subarray(i * MiB, (i + 1) * MiB).toString('base64')
      });
    }
    // A part is already in S3 (10 MiB > 8 MiB), so an upload is pending.
    expect(await bucket.pendingUploads(`${folder}/broken.bin`)).toBe(1);
    await expect(
      drive.save(path, {
        type: 'file',
        format: 'base64',
        chunk: -1,
        content: '%%% not base64 %%%'
      })
    ).rejects.toBeTruthy();
    expect(await bucket.pendingUploads(`${folder}/broken.bin`)).toBe(0);
    await expect(bucket.head(`${folder}/broken.bin`)).rejects.toMatchObject({
      name: 'NotFound'
    });
    // A chunk without a started upload is refused plainly.
    await expect(
      drive.save(path, {
        type: 'file',
        format: 'base64',
        chunk: 3,
        content: 'AAAA'
      })
    ).rejects.toMatchObject({
      message: expect.stringContaining('upload the file again')
    });
  });
});
