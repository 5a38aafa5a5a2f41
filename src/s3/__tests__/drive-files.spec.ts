/**
 * @jest-environment node
 */
/**
 * Files through the S3 drive, over the real gateway, checked against S3.
 */
import { useDriveFixture } from '../../__tests__/harness/fixture';
import {
  BUCKET,
  makeDrive,
  ROOT,
  uniqueFolder
} from '../../__tests__/harness/servers';

describe('S3Drive files', () => {
  const fixture = useDriveFixture();
  const folder = uniqueFolder('files');

  it('lists the configured root at the top level', async () => {
    const { drive } = fixture;
    const top = await drive.get('');
    expect(top.type).toBe('directory');
    const names = (top.content as any[]).map(m => m.name);
    expect(names).toContain(ROOT);
  });

  it('round-trips text with odd keys byte for byte', async () => {
    const { drive, bucket } = fixture;
    const names = [
      'with space.txt',
      'hash#sign.txt',
      'percent%41literal.txt',
      'plus+sign.txt',
      'question?mark.txt',
      'amp&ersand=1.txt',
      'ünïcødé ✓ 日本.txt',
      ' leading space.txt',
      'trailing space.txt ',
      'trailing dot.',
      '..dots..',
      'no_extension',
      '_SUCCESS',
      'part-00000'
    ];
    for (const name of names) {
      const path = `${ROOT}/${folder}/odd/${name}`;
      const text = `content of «${name}»\nline 2\r\n`;
      const saved = await drive.save(path, {
        type: 'file',
        format: 'text',
        content: text
      });
      expect(saved.path).toBe(path);
      expect(saved.name).toBe(name);
      // What S3 holds, under exactly this key.
      const key = `${folder}/odd/${name}`;
      expect(await bucket.text(key)).toBe(text);
      const model = await drive.get(path, {
        type: 'file',
        format: 'text',
        content: true
      });
      expect(model.content).toBe(text);
      expect(model.type).toBe('file');
    }
    const listing = await drive.get(`${ROOT}/${folder}/odd`);
    const listed = (listing.content as any[]).map(m => m.name).sort();
    expect(listed).toEqual([...names].sort());
    for (const entry of listing.content as any[]) {
      expect(entry.type).toBe('file');
    }
  });

  it('reads objects written by other tools with odd keys', async () => {
    const { drive, bucket } = fixture;
    const key = `${folder}/foreign/a b#c%d+e?f&g ü .csv`;
    await bucket.put(key, 'x,y\n1,2\n');
    const model = await drive.get(`${ROOT}/${key}`, { content: true });
    expect(model.type).toBe('file');
    expect(model.content).toBe('x,y\n1,2\n');
    expect(model.size).toBe(8);
  });

  it('round-trips binary bytes exactly as base64', async () => {
    const { drive, bucket } = fixture;
    const bytes = new Uint8Array(70000);
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = (i * 7919 + 13) % 256;
    }
    const path = `${ROOT}/${folder}/bin/blob.bin`;
    await drive.save(path, {
      type: 'file',
      format: 'base64',
      content: Buffer.from(bytes).toString('base64')
    });
    expect(
      Buffer.compare(
        await bucket.bytes(`${folder}/bin/blob.bin`),
        Buffer.from(bytes)
      )
    ).toBe(0);
    const model = await drive.get(path, { content: true });
    expect(model.format).toBe('base64');
    expect(
      Buffer.from(model.content, 'base64').equals(Buffer.from(bytes))
    ).toBe(true);
  });

  it('opens and saves notebooks as JSON', async () => {
    const { drive, bucket } = fixture;
    const nb = await drive.newUntitled({
      path: `${ROOT}/${folder}`,
      type: 'notebook'
    });
    expect(nb.name).toBe('Untitled.ipynb');
    expect(nb.type).toBe('notebook');
    const opened = await drive.get(nb.path, {
      type: 'notebook',
      content: true
    });
    expect(opened.format).toBe('json');
    expect(opened.content.nbformat).toBe(4);
    const content = {
      ...opened.content,
      cells: [
        { cell_type: 'markdown', metadata: {}, source: 'hello ✓', id: 'c1' }
      ]
    };
    await drive.save(nb.path, { type: 'notebook', format: 'json', content });
    const raw = JSON.parse(await bucket.text(`${folder}/Untitled.ipynb`));
    expect(raw.cells[0].source).toBe('hello ✓');
    const second = await drive.newUntitled({
      path: `${ROOT}/${folder}`,
      type: 'notebook'
    });
    expect(second.name).toBe('Untitled1.ipynb');
  });

  it('answers content:false with a HEAD: size, time and ETag hash', async () => {
    const { drive, bucket } = fixture;
    const path = `${ROOT}/${folder}/meta.txt`;
    await drive.save(path, { type: 'file', format: 'text', content: 'abc' });
    const head = await bucket.head(`${folder}/meta.txt`);
    const model = await drive.get(path, { content: false });
    expect(model.content).toBeNull();
    expect(model.size).toBe(3);
    expect(model.hash).toBe(head.ETag);
    expect(new Date(model.last_modified).getTime()).toBe(
      head.LastModified!.getTime()
    );
  });

  it('detects a concurrent save instead of overwriting it', async () => {
    const { drive, bucket } = fixture;
    const path = `${ROOT}/${folder}/shared.txt`;
    const key = `${folder}/shared.txt`;
    await drive.save(path, { type: 'file', format: 'text', content: 'v1' });
    const opened = await drive.get(path, {
      type: 'file',
      format: 'text',
      content: true
    });
    // Someone else writes the object behind the drive's back.
    await bucket.put(key, 'theirs');
    // JupyterLab's own pre-save check sees the change (hash differs) ...
    const check = await drive.get(path, { content: false });
    expect(check.hash).not.toBe(opened.hash);
    // ... and a save racing the other writer fails with a conflict.
    const racer = (await makeDrive()).drive;
    await racer.get(path, { type: 'file', format: 'text', content: true });
    await bucket.put(key, 'theirs again');
    await expect(
      racer.save(path, { type: 'file', format: 'text', content: 'mine' })
    ).rejects.toMatchObject({
      response: { status: 409 },
      message: expect.stringContaining('changed on S3 by someone else')
    });
    expect(await bucket.text(key)).toBe('theirs again');
    racer.dispose();
  });

  it('emits fileChanged for saves, creations, renames and deletes', async () => {
    const { drive, bucket } = fixture;
    const seen: string[] = [];
    drive.fileChanged.connect((_, args) => {
      seen.push(`${args.type}:${args.newValue?.path ?? args.oldValue?.path}`);
    });
    const path = `${ROOT}/${folder}/events.txt`;
    await drive.save(path, { type: 'file', format: 'text', content: 'e' });
    await drive.rename(path, `${ROOT}/${folder}/events2.txt`);
    await drive.delete(`${ROOT}/${folder}/events2.txt`);
    expect(seen).toEqual([
      `save:${path}`,
      `rename:${ROOT}/${folder}/events2.txt`,
      `delete:${ROOT}/${folder}/events2.txt`
    ]);
    await expect(bucket.head(`${folder}/events2.txt`)).rejects.toMatchObject({
      name: 'NotFound'
    });
  });

  it('reports a missing file as 404 like the Jupyter server does', async () => {
    const { drive } = fixture;
    await expect(
      drive.get(`${ROOT}/${folder}/nope.txt`, { content: false })
    ).rejects.toMatchObject({ response: { status: 404 } });
  });

  it('refuses to open an object too large for the tab, and says what to do', async () => {
    const { drive } = fixture;
    const path = `${ROOT}/${folder}/large.log`;
    await drive.save(path, {
      type: 'file',
      format: 'text',
      content: 'x'.repeat(4096)
    });
    const { drive: small } = await makeDrive({ maxOpenBytes: 1024 });
    await expect(
      small.get(path, { type: 'file', format: 'text', content: true })
    ).rejects.toMatchObject({
      response: { status: 413 },
      message: expect.stringContaining('too large to open in JupyterLab')
    });
    // Its metadata is still cheap to get.
    await expect(small.get(path, { content: false })).resolves.toMatchObject({
      size: 4096
    });
    small.dispose();
  });

  it('gives a download URL on the gateway that serves the bytes', async () => {
    const { drive } = fixture;
    const name = 'dl #1 ü+?.txt';
    const path = `${ROOT}/${folder}/${name}`;
    await drive.save(path, {
      type: 'file',
      format: 'text',
      content: 'download me'
    });
    const url = await drive.getDownloadUrl(path);
    expect(
      url.startsWith(
        `${process.env.SMALLFRY_TEST_BASE_URL}smallfry/aws/s3/${BUCKET}/`
      )
    ).toBe(true);
    const response = await fetch(url, {
      headers: { Authorization: `token ${process.env.SMALLFRY_TEST_TOKEN}` }
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('download me');
    expect(response.headers.get('content-disposition')).toContain('attachment');
  });
});
