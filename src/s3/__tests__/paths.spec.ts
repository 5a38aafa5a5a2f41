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
  const roots = new RootMap([
    { bucket: 'data-lake', prefix: 'teams/ds/', name: 'Team data' },
    { bucket: 'scratch', prefix: '', name: '' },
    'archive/2024',
    { bucket: 'other', prefix: 'x', name: 'Team data' }
  ]);

  it('names roots from the configuration, uniquely, one segment each', () => {
    expect(roots.roots.map(r => [r.name, r.bucket, r.prefix])).toEqual([
      ['Team data', 'data-lake', 'teams/ds/'],
      ['scratch', 'scratch', ''],
      ['archive-2024', 'archive', '2024/'],
      ['Team data (2)', 'other', 'x/']
    ]);
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
