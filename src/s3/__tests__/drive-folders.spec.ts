/**
 * @jest-environment node
 */
/**
 * Folders through the S3 drive, over the real gateway, checked against S3:
 * big listings, folders with and without markers, folder rename and delete.
 */
import { mapConcurrently } from '../concurrency';
import { IListingStatus } from '../drive';
import { useDriveFixture } from '../../__tests__/harness/fixture';
import {
  makeDrive,
  motoOnly,
  ROOT,
  uniqueFolder
} from '../../__tests__/harness/servers';

describe('S3Drive folders', () => {
  const fixture = useDriveFixture();

  it('pages a big folder: first page, a plain truncation notice, then the rest', async () => {
    const { drive, bucket, feedback, config } = fixture;
    const folder = uniqueFolder('big');
    const pageSize = config.page_size;
    const count = pageSize + 1;
    const names = Array.from(
      { length: count },
      (_, i) => `k-${String(i).padStart(4, '0')}.txt`
    );
    await mapConcurrently(names, 16, name =>
      bucket.put(`${folder}/${name}`, name)
    );

    const statuses: IListingStatus[] = [];
    drive.listingChanged.connect((_, status) => statuses.push(status));
    const path = `${ROOT}/${folder}`;

    const first = await drive.get(path);
    expect(first.content).toHaveLength(pageSize);
    expect(drive.listingStatus(path)).toMatchObject({
      path,
      count: pageSize,
      truncated: true,
      filter: ''
    });
    expect(statuses[statuses.length - 1]).toMatchObject({
      path,
      truncated: true
    });

    drive.loadMore(path);
    const all = await drive.get(path);
    expect(all.content).toHaveLength(count);
    expect((all.content as any[]).map(m => m.name).sort()).toEqual(names);
    expect(drive.listingStatus(path)).toMatchObject({
      count,
      truncated: false
    });

    // Server-side name filter: only matching entries are fetched.
    drive.setFilter(path, 'k-09');
    const filtered = await drive.get(path);
    const filteredNames = (filtered.content as any[]).map(m => m.name);
    expect(filteredNames).toHaveLength(100);
    expect(filteredNames.every(n => n.startsWith('k-09'))).toBe(true);
    expect(drive.listingStatus(path)).toMatchObject({
      filter: 'k-09',
      truncated: false
    });
    drive.setFilter(path, '');

    // Deleting the folder removes every key (DeleteObjects in batches of 1000).
    await drive.delete(path);
    expect(await bucket.keysUnder(`${folder}/`)).toEqual([]);
    expect(feedback.finished[feedback.finished.length - 1]).toMatchObject({
      ok: true
    });
  });

  it('shows a screenful of a big folder on the way in, then its whole page', async () => {
    const { bucket } = fixture;
    const { drive } = await makeDrive({ pageSize: 40, firstLookSize: 10 });
    const folder = uniqueFolder('first-look');
    const names = Array.from({ length: 45 }, (_, i) => `f-${i + 100}.txt`);
    await mapConcurrently(names, 16, name =>
      bucket.put(`${folder}/${name}`, name)
    );
    const path = `${ROOT}/${folder}`;

    const quick = await drive.get(path);
    expect(quick.content).toHaveLength(10);
    expect(drive.listingStatus(path)).toMatchObject({
      count: 10,
      truncated: true,
      partial: true
    });
    // The browser lists again once the first look is on screen: the page.
    const page = await drive.get(path);
    expect(page.content).toHaveLength(40);
    expect(drive.listingStatus(path)).toMatchObject({
      count: 40,
      truncated: true,
      partial: false
    });
    // Refreshes of the folder shown go straight to the page.
    expect((await drive.get(path)).content).toHaveLength(40);

    // A folder that fits in the first look is whole at once.
    const small = uniqueFolder('first-look-small');
    await bucket.put(`${small}/only.txt`, 'x');
    expect((await drive.get(`${ROOT}/${small}`)).content).toHaveLength(1);
    expect(drive.listingStatus(`${ROOT}/${small}`)?.partial).toBe(false);

    // Going back into the big folder is quick again.
    expect((await drive.get(path)).content).toHaveLength(10);
    expect(drive.listingStatus(path)?.partial).toBe(true);
  });

  it('shows folders made by other tools without marker objects', async () => {
    const { drive, bucket } = fixture;
    const folder = uniqueFolder('nomarker');
    await bucket.put(`${folder}/a/b/deep.txt`, 'deep');
    await bucket.put(`${folder}/c.txt`, 'c');
    await bucket.put(`${folder}/_SUCCESS`, '');
    const listing = await drive.get(`${ROOT}/${folder}`);
    const entries = (listing.content as any[])
      .map(m => `${m.type}:${m.name}`)
      .sort();
    expect(entries).toEqual(['directory:a', 'file:_SUCCESS', 'file:c.txt']);
    const inner = await drive.get(`${ROOT}/${folder}/a`);
    expect((inner.content as any[]).map(m => `${m.type}:${m.name}`)).toEqual([
      'directory:b'
    ]);
    const root = await drive.get(ROOT);
    expect(
      (root.content as any[]).some(
        m => m.name === folder && m.type === 'directory'
      )
    ).toBe(true);
  });

  it('creates an empty folder as a zero-byte prefix/ marker', async () => {
    const { drive, bucket } = fixture;
    const folder = uniqueFolder('mk');
    await bucket.put(`${folder}/keep.txt`, 'x');
    const made = await drive.newUntitled({
      path: `${ROOT}/${folder}`,
      type: 'directory'
    });
    expect(made).toMatchObject({ type: 'directory', name: 'Untitled Folder' });
    const head = await bucket.head(`${folder}/Untitled Folder/`);
    expect(head.ContentLength).toBe(0);
    const empty = await drive.get(made.path);
    expect(empty.type).toBe('directory');
    expect(empty.content).toEqual([]);
    const parent = await drive.get(`${ROOT}/${folder}`);
    expect(
      (parent.content as any[]).map(m => `${m.type}:${m.name}`).sort()
    ).toEqual(['directory:Untitled Folder', 'file:keep.txt']);
    const second = await drive.newUntitled({
      path: `${ROOT}/${folder}`,
      type: 'directory'
    });
    expect(second.name).toBe('Untitled Folder 1');
  });

  it('renames a folder by copying everything, then deleting the originals', async () => {
    const { drive, bucket, feedback } = fixture;
    const folder = uniqueFolder('mv');
    const rel = ['x.txt', 'sub/y z.txt', 'sub/deeper/ü#.txt', 'sub/'];
    for (let i = 0; i < 25; i++) {
      rel.push(`many/f${i}.txt`);
    }
    for (const r of rel) {
      await bucket.put(
        `${folder}/src/${r}`,
        r.endsWith('/') ? '' : `body of ${r}`
      );
    }
    const changes: string[] = [];
    drive.fileChanged.connect((_, a) =>
      changes.push(`${a.type}:${a.oldValue?.path}->${a.newValue?.path}`)
    );
    const model = await drive.rename(
      `${ROOT}/${folder}/src`,
      `${ROOT}/${folder}/dst`
    );
    expect(model).toMatchObject({
      type: 'directory',
      path: `${ROOT}/${folder}/dst`
    });
    expect(await bucket.keysUnder(`${folder}/src/`)).toEqual([]);
    expect(await bucket.keysUnder(`${folder}/dst/`)).toEqual(
      rel.map(r => `${folder}/dst/${r}`).sort()
    );
    expect(await bucket.text(`${folder}/dst/sub/deeper/ü#.txt`)).toBe(
      'body of sub/deeper/ü#.txt'
    );
    expect(changes).toContain(
      `rename:${ROOT}/${folder}/src->${ROOT}/${folder}/dst`
    );
    // 29 objects: the user saw progress and a success.
    expect(feedback.finished[feedback.finished.length - 1]).toEqual({
      message: expect.stringContaining('Moved'),
      ok: true
    });
  });

  it('keeps the conflict check of open files across a folder rename', async () => {
    const { drive, bucket } = fixture;
    const folder = uniqueFolder('mvopen');
    await bucket.put(`${folder}/a/doc.txt`, 'v1');
    await drive.get(`${ROOT}/${folder}/a/doc.txt`, {
      type: 'file',
      format: 'text',
      content: true
    });
    await drive.rename(`${ROOT}/${folder}/a`, `${ROOT}/${folder}/b`);
    // The renamed copy has the same bytes, so the same ETag; then someone
    // else writes it.
    await bucket.put(`${folder}/b/doc.txt`, 'theirs');
    await expect(
      drive.save(`${ROOT}/${folder}/b/doc.txt`, {
        type: 'file',
        format: 'text',
        content: 'mine'
      })
    ).rejects.toMatchObject({ response: { status: 409 } });
    expect(await bucket.text(`${folder}/b/doc.txt`)).toBe('theirs');
  });

  it('refuses to rename onto an existing name', async () => {
    const { drive, bucket } = fixture;
    const folder = uniqueFolder('clash');
    await bucket.put(`${folder}/a/1.txt`, '1');
    await bucket.put(`${folder}/b/2.txt`, '2');
    await expect(
      drive.rename(`${ROOT}/${folder}/a`, `${ROOT}/${folder}/b`)
    ).rejects.toMatchObject({ response: { status: 409 } });
    expect(await bucket.keysUnder(`${folder}/`)).toEqual([
      `${folder}/a/1.txt`,
      `${folder}/b/2.txt`
    ]);
  });

  // The failure is staged with an archived (GLACIER) object, which S3 and
  // moto refuse to copy (InvalidObjectState). radosgw 16.2 refuses to store
  // one (InvalidArgument: its placement has no GLACIER class), so this
  // failure cannot be staged there.
  motoOnly(
    'needs an archived object S3 refuses to copy; radosgw stores no GLACIER class'
  )(
    'leaves the originals intact when a copy fails, and says what failed',
    async () => {
      const { drive, bucket, feedback } = fixture;
      const folder = uniqueFolder('mvfail');
      const keys = [
        `${folder}/src/ok1.txt`,
        `${folder}/src/ok2.txt`,
        `${folder}/src/sub/ok3.txt`
      ];
      for (const k of keys) {
        await bucket.put(k, 'fine');
      }
      // An archived object cannot be copied until it is restored (S3 answers
      // InvalidObjectState): a real reason for one copy in a folder to fail.
      const frozen = `${folder}/src/frozen.bin`;
      await bucket.put(frozen, 'cold', { StorageClass: 'GLACIER' });
      const errorsBefore = feedback.errors.length;

      const failure = drive.rename(
        `${ROOT}/${folder}/src`,
        `${ROOT}/${folder}/dst`
      );
      await expect(failure).rejects.toMatchObject({
        message: expect.stringContaining(
          'nothing was moved and the originals are intact'
        )
      });
      await failure.catch(e => expect(e.message).toContain('frozen.bin'));
      expect(await bucket.keysUnder(`${folder}/src/`)).toEqual(
        [...keys, frozen].sort()
      );
      expect(await bucket.keysUnder(`${folder}/dst/`)).toEqual([]);
      expect(feedback.errors.length).toBe(errorsBefore + 1);
      expect(feedback.errors[feedback.errors.length - 1]).toContain(
        'frozen.bin'
      );
    }
  );

  it('copies a folder next to itself as "<name>-Copy1"', async () => {
    const { drive, bucket } = fixture;
    const folder = uniqueFolder('cp');
    await bucket.put(`${folder}/data/a.csv`, 'a');
    await bucket.put(`${folder}/data/b/c.csv`, 'c');
    const copy = await drive.copy(
      `${ROOT}/${folder}/data`,
      `${ROOT}/${folder}`
    );
    expect(copy).toMatchObject({ type: 'directory', name: 'data-Copy1' });
    expect(await bucket.keysUnder(`${folder}/`)).toEqual(
      [
        `${folder}/data/a.csv`,
        `${folder}/data/b/c.csv`,
        `${folder}/data-Copy1/a.csv`,
        `${folder}/data-Copy1/b/c.csv`
      ].sort()
    );
    const fileCopy = await drive.copy(
      `${ROOT}/${folder}/data/a.csv`,
      `${ROOT}/${folder}/data`
    );
    expect(fileCopy.name).toBe('a-Copy1.csv');
    expect(await bucket.text(`${folder}/data/a-Copy1.csv`)).toBe('a');
  });
});
