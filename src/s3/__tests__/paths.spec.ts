/**
 * @jest-environment node
 */
/**
 * Drive paths ⇄ S3 locations, and the byte conversions of the drive.
 */
import {
  base64ToBytes,
  bytesToBase64,
  decodeUtf8,
  encodeUtf8,
  fileType,
  guessMimetype
} from '../models';
import { basename, dirname, RootMap, stripSlashes } from '../paths';

describe('RootMap', () => {
  // As the server sends them: named, unique (see contract_fixtures.json for
  // the naming rule both sides keep).
  const roots = new RootMap([
    { bucket: 'data-lake', prefix: 'teams/ds/', name: 'Team data' },
    { bucket: 'scratch', prefix: '', name: 'scratch' },
    { bucket: 'archive', prefix: '2024/', name: 'archive \u203a 2024' },
    { bucket: 'other', prefix: 'x/', name: 'Team data (2)' }
  ]);

  it("shows the server's root names as they are", () => {
    expect(roots.roots.map(r => [r.name, r.bucket, r.prefix])).toEqual([
      ['Team data', 'data-lake', 'teams/ds/'],
      ['scratch', 'scratch', ''],
      ['archive \u203a 2024', 'archive', '2024/'],
      ['Team data (2)', 'other', 'x/']
    ]);
  });

  it('refuses root names that are not one unique folder name', () => {
    const named = (name: string) => ({ bucket: 'b-1', prefix: '', name });
    expect(() => new RootMap([named('a'), named('a')])).toThrow(
      'The S3 root name "a" is not one unique folder name.'
    );
    expect(() => new RootMap([named('a/b')])).toThrow('"a/b"');
    expect(() => new RootMap([named('')])).toThrow('""');
    // Only the server names a root with a prefix.
    expect(() => new RootMap(['archive/2024'])).toThrow('has no name');
    expect(new RootMap(['scratch']).roots[0]).toMatchObject({
      name: 'scratch',
      bucket: 'scratch',
      prefix: ''
    });
  });

  it('maps paths below a root to keys under its prefix, keeping every character', () => {
    expect(roots.resolve('Team data/a b/ü #?%+&. ')).toMatchObject({
      bucket: 'data-lake',
      key: 'teams/ds/a b/ü #?%+&. ',
      dirPrefix: 'teams/ds/a b/ü #?%+&. /'
    });
    expect(roots.resolve('scratch')).toMatchObject({
      key: '',
      dirPrefix: '',
      rest: ''
    });
    expect(roots.resolve('')).toBeNull();
    expect(() => roots.resolve('nope/x')).toThrow(
      'No S3 location named "nope"'
    );
    expect(roots.pathOf(roots.root('Team data')!, 'teams/ds/a/b/')).toBe(
      'Team data/a/b'
    );
  });

  it('adds listed buckets after the pins, without duplicating whole-bucket pins', () => {
    const map = new RootMap(['scratch']);
    map.setBuckets(['scratch', 'logs', 'scratch-2']);
    expect(map.roots.map(r => `${r.name}:${r.pinned}`)).toEqual([
      'scratch:true',
      'logs:false',
      'scratch-2:false'
    ]);
  });

  it('names a listed bucket that a pinned name holds with the next free suffix', () => {
    const map = new RootMap([
      { bucket: 'archive', prefix: '', name: 'logs' },
      { bucket: 'archive', prefix: 'old/', name: 'logs (2)' }
    ]);
    map.setBuckets(['logs', 'archive']);
    expect(map.roots.map(r => r.name)).toEqual([
      'logs',
      'logs (2)',
      'logs (3)'
    ]);
    expect(map.uri('logs (3)/a.ipynb', true)).toBe('s3://logs/a.ipynb');
    expect(map.pathOfUri('s3://logs/a.ipynb', true)).toBe('logs (3)/a.ipynb');
    expect(map.pathOfUri('s3://archive/old/a.ipynb')).toBe('logs (2)/a.ipynb');
  });

  it('splits paths without touching spaces or dots', () => {
    expect(stripSlashes('/a/ b. /')).toBe('a/ b. ');
    expect(basename('a/ b. ')).toBe(' b. ');
    expect(dirname('a/ b. ')).toBe('a');
  });
});

describe('models', () => {
  it('round-trips every byte value through base64', () => {
    const bytes = new Uint8Array(256 * 300);
    bytes.forEach((_, i) => (bytes[i] = i % 256));
    const b64 = bytesToBase64(bytes);
    expect(b64).toBe(Buffer.from(bytes).toString('base64'));
    expect(Buffer.from(base64ToBytes(b64)).equals(Buffer.from(bytes))).toBe(
      true
    );
  });

  it('keeps a byte-order mark and refuses invalid UTF-8', () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]);
    const text = decodeUtf8(withBom);
    expect(text).toBe('\ufeffhi');
    expect(Array.from(encodeUtf8(text!))).toEqual(Array.from(withBom));
    expect(decodeUtf8(new Uint8Array([0xff, 0xfe, 0x00]))).toBeNull();
  });

  it('types files by extension only for notebooks', () => {
    expect(fileType('a.ipynb')).toBe('notebook');
    expect(fileType('_SUCCESS')).toBe('file');
    expect(fileType('part-00000')).toBe('file');
    expect(guessMimetype('x.csv', 'text')).toBe('text/csv');
    expect(guessMimetype('blob', 'base64')).toBe('application/octet-stream');
  });
});
