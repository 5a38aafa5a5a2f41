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

import { ContentsManager } from '@jupyterlab/services';

import { transferFiles, walkContents } from '../transfer';
import { useDriveFixture } from '../../__tests__/harness/fixture';
import { ROOT, uniqueFolder } from '../../__tests__/harness/servers';

describe('copy between S3 and local files', () => {
  const fixture = useDriveFixture();
  const home = process.env.SMALLFRY_TEST_HOME!;
  let contents: ContentsManager;

  beforeAll(() => {
    const { drive } = fixture;
    contents = new ContentsManager({ serverSettings: drive.serverSettings });
    contents.addDrive(drive);
  });

  afterAll(() => {
    contents.dispose();
  });

  it('copies an S3 folder to a local folder byte for byte, without overwriting', async () => {
    const { drive, bucket } = fixture;
    const folder = uniqueFolder('tolocal');
    const big = randomBytes(2 * 1024 * 1024 + 17);
    await bucket.put(`${folder}/data/big.bin`, big);
    await bucket.put(`${folder}/data/sub/ü #1.txt`, 'hi');
    await bucket.put(`${folder}/data/empty/`, new Uint8Array(0));
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
    const { bucket } = fixture;
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
    const head = await bucket.head(`${folder}/big.bin`);
    expect(head.ETag).toMatch(/-2"$/);
    expect((await bucket.bytes(`${folder}/big.bin`)).equals(big)).toBe(true);
    expect(await bucket.text(`${folder}/nested/note.ipynb`)).toBe(
      '{"cells": []}\n'
    );
  });
});
