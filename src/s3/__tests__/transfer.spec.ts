/**
 * @jest-environment node
 */
/**
 * Copying between S3 and the Jupyter server's own files (what the
 * "Copy to Local Folder" / "Copy to S3 Folder" commands run), end to end.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client
} from '@aws-sdk/client-s3';
import { ContentsManager } from '@jupyterlab/services';

import { S3Drive } from '../drive';
import { transferFiles, walkContents } from '../transfer';
import {
  BUCKET,
  directS3,
  ensureBucket,
  makeDrive,
  ROOT,
  uniqueFolder
} from './harness/servers';

describe('copy between S3 and local files', () => {
  let s3: S3Client;
  let drive: S3Drive;
  let contents: ContentsManager;
  let home: string;

  beforeAll(async () => {
    s3 = directS3();
    await ensureBucket(s3);
    ({ drive } = await makeDrive());
    contents = new ContentsManager({ serverSettings: drive.serverSettings });
    contents.addDrive(drive);
    home = process.env.SMALLFRY_TEST_HOME!;
  });

  afterAll(() => {
    contents.dispose();
    s3.destroy();
  });

  it('copies an S3 folder to a local folder byte for byte, without overwriting', async () => {
    const folder = uniqueFolder('tolocal');
    const big = randomBytes(2 * 1024 * 1024 + 17);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${folder}/data/big.bin`,
        Body: big
      })
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${folder}/data/sub/ü #1.txt`,
        Body: 'hi'
      })
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${folder}/data/empty/`,
        Body: new Uint8Array(0)
      })
    );
    fs.mkdirSync(path.join(home, folder));
    fs.mkdirSync(path.join(home, folder, 'data'));
    fs.writeFileSync(
      path.join(home, folder, 'data', 'big.bin'),
      'local, keep me'
    );

    const tree = await drive.walk(`${ROOT}/${folder}/data`);
    expect(tree.files.sort()).toEqual(['big.bin', 'sub/ü #1.txt']);
    expect(tree.folders).toEqual(['empty', 'sub']);
    const report = await transferFiles(
      contents,
      tree.files.map(f => ({
        from: `S3:${ROOT}/${folder}/data/${f}`,
        to: `${folder}/data/${f}`
      })),
      tree.folders.map(d => `${folder}/data/${d}`)
    );
    expect(report.failed).toEqual([]);
    expect(report.skipped).toEqual([`${folder}/data/big.bin`]);
    expect(report.copied).toEqual([`${folder}/data/sub/ü #1.txt`]);
    expect(
      fs.readFileSync(path.join(home, folder, 'data', 'big.bin'), 'utf-8')
    ).toBe('local, keep me');
    expect(
      fs.readFileSync(
        path.join(home, folder, 'data', 'sub', 'ü #1.txt'),
        'utf-8'
      )
    ).toBe('hi');
    expect(
      fs.statSync(path.join(home, folder, 'data', 'empty')).isDirectory()
    ).toBe(true);

    // Into a fresh folder, the 2 MiB file arrives in chunks, byte-exact.
    const again = await transferFiles(
      contents,
      [
        {
          from: `S3:${ROOT}/${folder}/data/big.bin`,
          to: `${folder}/fresh-big.bin`
        }
      ],
      []
    );
    expect(again.copied).toEqual([`${folder}/fresh-big.bin`]);
    expect(
      fs.readFileSync(path.join(home, folder, 'fresh-big.bin')).equals(big)
    ).toBe(true);
  });

  it('copies a local folder to S3, large files as multipart uploads', async () => {
    const folder = uniqueFolder('tos3');
    const big = randomBytes(9 * 1024 * 1024 + 3);
    fs.mkdirSync(path.join(home, folder, 'nested'), { recursive: true });
    fs.writeFileSync(path.join(home, folder, 'big.bin'), big);
    fs.writeFileSync(
      path.join(home, folder, 'nested', 'note.ipynb'),
      '{"cells": []}\n'
    );

    const tree = await walkContents(contents, folder);
    expect(tree.files.sort()).toEqual(['big.bin', 'nested/note.ipynb']);
    const report = await transferFiles(
      contents,
      tree.files.map(f => ({
        from: `${folder}/${f}`,
        to: `S3:${ROOT}/${folder}/${f}`
      })),
      [
        `S3:${ROOT}/${folder}`,
        ...tree.folders.map(d => `S3:${ROOT}/${folder}/${d}`)
      ]
    );
    expect(report.failed).toEqual([]);
    expect(report.copied.sort()).toEqual([
      `S3:${ROOT}/${folder}/big.bin`,
      `S3:${ROOT}/${folder}/nested/note.ipynb`
    ]);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `${folder}/big.bin` })
    );
    expect(head.ETag).toMatch(/-2"$/);
    const out = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: `${folder}/big.bin` })
    );
    expect(
      Buffer.from(await out.Body!.transformToByteArray()).equals(big)
    ).toBe(true);
    const nb = await s3.send(
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: `${folder}/nested/note.ipynb`
      })
    );
    expect(await nb.Body!.transformToString()).toBe('{"cells": []}\n');
  });
});
