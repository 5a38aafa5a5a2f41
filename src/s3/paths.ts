/**
 * Mapping between S3 drive paths and S3 locations.
 *
 * Drive paths look like `<root name>/<rest>`: the top level of the drive lists
 * the roots (pinned bucket/prefix locations, plus every visible bucket when
 * allowed), and everything below a root maps to keys under its prefix.
 */
import type { IRootConfig } from '../api';
import {
  freeName,
  LISTED_BUCKET_RE,
  splitSuffix,
  URI_SCHEME
} from '../contract';

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
 *
 * Root names follow the contract (`contract.json`, `roots`): pinned roots
 * come named from the server, and are shown as they are; a listed bucket is
 * named after itself, with a collision suffix (" (2)") when a pinned root
 * holds that name. The server maps drive paths back by the same rule
 * (`drive_roots.py`); both run the cases of `contract_fixtures.json`.
 */
export class RootMap {
  /**
   * Build the map from the pinned roots.
   *
   * @param pinned - the server's `roots`, in order, names final and unique.
   *   A bare bucket name is a whole-bucket root named after the bucket, as
   *   the server names it.
   * @throws Error when a name is not one unique path segment (the server
   *   never sends such a name)
   */
  constructor(pinned: ReadonlyArray<IRootConfig | string>) {
    for (const entry of pinned) {
      const root = parseRoot(entry);
      if (
        !root.name ||
        root.name.includes('/') ||
        this._byName.has(root.name)
      ) {
        throw new Error(
          `The S3 root name "${root.name}" is not one unique folder name.`
        );
      }
      this._add({
        name: root.name,
        bucket: root.bucket,
        prefix: normalizePrefix(root.prefix),
        pinned: true
      });
    }
    this._pinnedNames = new Set(this._byName.keys());
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
    for (const bucket of buckets) {
      const name = this.listedName(bucket);
      if (name !== null && !this._byName.has(name)) {
        this._add({ name, bucket, prefix: '', pinned: false });
      }
    }
  }

  /**
   * The name a bucket gets when ListBuckets shows it: the bucket's own name,
   * with the first free collision suffix if a pinned root holds it. It
   * depends only on the pinned names (no bucket name has a space or
   * parentheses, so listed names never collide with each other).
   *
   * @returns the name, or `null` when a pinned root shows the whole bucket
   */
  listedName(bucket: string): string | null {
    if (this._roots.some(r => r.pinned && r.bucket === bucket && !r.prefix)) {
      return null;
    }
    return freeName(bucket, this._pinnedNames);
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
   * The `s3://` URI of the object at a drive path, as the server computes it
   * for the kernel (`SMALLFRY_NOTEBOOK_URI`).
   *
   * @param localPath - path inside the drive (no drive prefix)
   * @param listAllBuckets - whether the drive shows listed buckets: then a
   *   bucket's name maps to it even before the drive has listed it
   * @returns the URI, or `null` for the top level, a root itself (a folder,
   *   not an object) and a name no root has
   */
  uri(localPath: string, listAllBuckets = false): string | null {
    const path = stripSlashes(localPath);
    const slash = path.indexOf('/');
    if (slash === -1) {
      return null;
    }
    const name = path.slice(0, slash);
    const rest = path.slice(slash + 1);
    const root = this._byName.get(name);
    if (root) {
      return `${URI_SCHEME}${root.bucket}/${root.prefix}${rest}`;
    }
    const bucket = listAllBuckets ? this._listedBucket(name) : null;
    return bucket === null ? null : `${URI_SCHEME}${bucket}/${rest}`;
  }

  /**
   * The drive path that shows an `s3://` URI: through the pinned root with
   * the longest matching prefix, else the bucket's listed root.
   *
   * @param uri - `s3://bucket/key`
   * @param listAllBuckets - whether the drive shows listed buckets
   * @returns the path inside the drive, or `null` when the drive does not
   *   show that location
   */
  pathOfUri(uri: string, listAllBuckets = false): string | null {
    if (!uri.startsWith(URI_SCHEME)) {
      return null;
    }
    const location = uri.slice(URI_SCHEME.length);
    const slash = location.indexOf('/');
    if (slash <= 0) {
      return null;
    }
    const bucket = location.slice(0, slash);
    const key = location.slice(slash + 1);
    let best: IS3Root | null = null;
    for (const root of this._roots) {
      if (
        root.pinned &&
        root.bucket === bucket &&
        key.startsWith(root.prefix) &&
        (!best || root.prefix.length > best.prefix.length)
      ) {
        best = root;
      }
    }
    if (best) {
      return this.pathOf(best, key);
    }
    const name = listAllBuckets ? this.listedName(bucket) : null;
    return name === null
      ? null
      : this.pathOf({ name, bucket, prefix: '', pinned: false }, key);
  }

  /** The bucket a listed root named `name` shows, or `null`. */
  private _listedBucket(name: string): string | null {
    for (const bucket of [name, splitSuffix(name)]) {
      if (
        bucket &&
        LISTED_BUCKET_RE.test(bucket) &&
        this.listedName(bucket) === name
      ) {
        return bucket;
      }
    }
    return null;
  }

  private _add(root: IS3Root): void {
    this._roots.push(root);
    this._byName.set(root.name, root);
  }

  private _roots: IS3Root[] = [];
  private _byName = new Map<string, IS3Root>();
  private _pinnedNames: ReadonlySet<string> = new Set();
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
 * Accept a root as the server sends it, or a bare bucket name (a whole
 * bucket, named after itself, as the server would name it).
 */
function parseRoot(entry: IRootConfig | string): IRootConfig {
  if (typeof entry === 'string') {
    if (entry.includes('/')) {
      throw new Error(
        `The S3 root "${entry}" has no name: only the server names pinned roots.`
      );
    }
    return { bucket: entry, prefix: '', name: entry };
  }
  return {
    bucket: entry.bucket,
    prefix: entry.prefix ?? '',
    name: entry.name
  };
}
