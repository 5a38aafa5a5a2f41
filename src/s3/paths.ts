/**
 * Mapping between S3 drive paths and S3 locations.
 *
 * Drive paths look like `<root name>/<rest>`: the top level of the drive lists
 * the roots (pinned bucket/prefix locations, plus every visible bucket when
 * allowed), and everything below a root maps to keys under its prefix.
 */
import type { IRootConfig } from '../api';

/**
 * A root of the S3 drive: one folder at the top level.
 */
export interface IS3Root {
  /** Name shown at the top level of the drive (one path segment). */
  name: string;
  /** Bucket. */
  bucket: string;
  /** Prefix inside the bucket: "" or ending with "/". */
  prefix: string;
  /** Whether this root was pinned in the server configuration. */
  pinned: boolean;
}

/**
 * Where a drive path points in S3.
 */
export interface IS3Location {
  /** The root the path lives in. */
  root: IS3Root;
  /**
   * The part of the drive path below the root ("" for the root itself),
   * without leading or trailing slash.
   */
  rest: string;
  /** The bucket. */
  bucket: string;
  /**
   * The object key for a file: root prefix + rest. For the root itself this
   * is the root prefix.
   */
  key: string;
  /** The key prefix of the folder at this path (key + "/", or the root prefix). */
  dirPrefix: string;
}

/**
 * Normalise a root prefix: "" or a string ending with exactly one "/".
 */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  if (trimmed === '') {
    return '';
  }
  return trimmed.endsWith('/') ? trimmed : trimmed + '/';
}

/**
 * The set of roots of the drive and the mapping from paths to S3.
 */
export class RootMap {
  /**
   * Build the map from the configured roots.
   *
   * @param pinned - roots from the server configuration, in order
   */
  constructor(pinned: (IRootConfig | string)[]) {
    for (const entry of pinned) {
      const root = parseRoot(entry);
      const prefix = normalizePrefix(root.prefix ?? '');
      const base =
        safeName(root.name) ||
        safeName(
          prefix ? `${root.bucket}-${prefix.slice(0, -1)}` : root.bucket
        );
      this._add({
        name: this._unique(base),
        bucket: root.bucket,
        prefix,
        pinned: true
      });
    }
  }

  /**
   * All roots, pinned first, then listed buckets.
   */
  get roots(): readonly IS3Root[] {
    return this._roots;
  }

  /**
   * Add the buckets from ListBuckets that are not already a whole-bucket root.
   *
   * @param buckets - bucket names
   */
  setBuckets(buckets: string[]): void {
    this._roots = this._roots.filter(r => r.pinned);
    this._byName = new Map(this._roots.map(r => [r.name, r]));
    const whole = new Set(
      this._roots.filter(r => r.prefix === '').map(r => r.bucket)
    );
    for (const bucket of buckets) {
      if (whole.has(bucket)) {
        continue;
      }
      this._add({
        name: this._unique(safeName(bucket)),
        bucket,
        prefix: '',
        pinned: false
      });
    }
  }

  /**
   * Find the root with this name.
   */
  root(name: string): IS3Root | undefined {
    return this._byName.get(name);
  }

  /**
   * Resolve a drive path.
   *
   * @param localPath - path inside the drive (no drive prefix)
   * @returns the S3 location, or `null` for the drive's top level
   * @throws Error when the root does not exist
   */
  resolve(localPath: string): IS3Location | null {
    const path = stripSlashes(localPath);
    if (path === '') {
      return null;
    }
    const slash = path.indexOf('/');
    const name = slash === -1 ? path : path.slice(0, slash);
    const rest = slash === -1 ? '' : path.slice(slash + 1);
    const root = this._byName.get(name);
    if (!root) {
      throw new RootNotFoundError(name);
    }
    const key = root.prefix + rest;
    return {
      root,
      rest,
      bucket: root.bucket,
      key,
      dirPrefix: rest === '' ? root.prefix : key + '/'
    };
  }

  /**
   * The drive path of a key inside a root.
   *
   * @param root - the root
   * @param key - a key (or folder prefix) under the root's prefix
   */
  pathOf(root: IS3Root, key: string): string {
    let rest = key.slice(root.prefix.length);
    if (rest.endsWith('/')) {
      rest = rest.slice(0, -1);
    }
    return rest === '' ? root.name : `${root.name}/${rest}`;
  }

  /**
   * The `s3://` URI of a drive path.
   */
  uri(localPath: string): string {
    const loc = this.resolve(localPath);
    if (!loc) {
      return 's3://';
    }
    return `s3://${loc.bucket}/${loc.key}`;
  }

  private _add(root: IS3Root): void {
    this._roots.push(root);
    this._byName.set(root.name, root);
  }

  private _unique(base: string): string {
    let name = base || 'bucket';
    let i = 2;
    while (this._byName.has(name)) {
      name = `${base} (${i++})`;
    }
    return name;
  }

  private _roots: IS3Root[] = [];
  private _byName = new Map<string, IS3Root>();
}

/**
 * Thrown when a path names a root that does not exist.
 */
export class RootNotFoundError extends Error {
  constructor(readonly rootName: string) {
    super(`No S3 location named "${rootName}"`);
    this.name = 'RootNotFoundError';
  }
}

/**
 * Drop leading and trailing slashes only: keys may begin or end with spaces
 * or dots, which must survive untouched.
 */
export function stripSlashes(path: string): string {
  return path.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * The last segment of a path.
 */
export function basename(path: string): string {
  const p = stripSlashes(path);
  const i = p.lastIndexOf('/');
  return i === -1 ? p : p.slice(i + 1);
}

/**
 * Everything before the last segment of a path ("" at the top).
 */
export function dirname(path: string): string {
  const p = stripSlashes(path);
  const i = p.lastIndexOf('/');
  return i === -1 ? '' : p.slice(0, i);
}

/**
 * Join path parts with single slashes, keeping every character of each part.
 */
export function joinPath(...parts: string[]): string {
  return parts
    .map(stripSlashes)
    .filter(p => p !== '')
    .join('/');
}

/**
 * Accept a root as the server sends it: an object, or a `bucket[/prefix]`
 * string (the form `c.SmallFry.roots` takes).
 */
function parseRoot(entry: IRootConfig | string): IRootConfig {
  if (typeof entry === 'string') {
    const s = entry.replace(/^s3:\/\//, '');
    const slash = s.indexOf('/');
    return slash === -1
      ? { bucket: s, prefix: '', name: '' }
      : { bucket: s.slice(0, slash), prefix: s.slice(slash + 1), name: '' };
  }
  return {
    bucket: entry.bucket,
    prefix: entry.prefix ?? '',
    name: entry.name ?? ''
  };
}

function safeName(name: string): string {
  // A root name is one path segment.
  return (name ?? '').replace(/\//g, '-').trim();
}
