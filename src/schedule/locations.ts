/**
 * Between S3 drive paths (`S3:<root name>/<key>`) and `s3://` URIs, for the
 * notebook to snapshot and for opening run outputs through the S3 browser.
 */
import type { RootMap } from '../s3/paths';

/** The S3 drive's name (see `S3Drive`). */
export const S3_DRIVE = 'S3';

/**
 * The S3 locations the S3 browser shows: the drive's own roots (`ISmallFry.roots`).
 */
export class S3Locations {
  /**
   * @param roots - the S3 drive's roots
   * @param listAllBuckets - whether the drive also shows every listed bucket
   */
  constructor(roots: RootMap, listAllBuckets: boolean) {
    this._roots = roots;
    this._listAll = listAllBuckets;
  }

  /**
   * What the server snapshots for a contents path: the `s3://` URI of an S3
   * drive path, a local path as it is; `null` for an S3 path whose root is
   * unknown.
   */
  sourceOf(path: string): string | null {
    const prefix = `${S3_DRIVE}:`;
    if (!path.startsWith(prefix)) {
      return path;
    }
    const rest = path.slice(prefix.length).replace(/^\/+/, '');
    try {
      return this._roots.uri(rest);
    } catch {
      if (!this._listAll) {
        return null;
      }
      // Listed buckets are roots named after the bucket.
      const slash = rest.indexOf('/');
      return slash < 0 ? null : `s3://${rest}`;
    }
  }

  /**
   * The S3 drive path that opens `uri`, or `null` when the S3 browser does
   * not show that bucket.
   */
  drivePathOf(uri: string): string | null {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
    if (!m) {
      return null;
    }
    const [, bucket, key] = m;
    let best = null as null | { name: string; prefix: string };
    for (const root of this._roots.roots) {
      if (
        root.bucket === bucket &&
        key.startsWith(root.prefix) &&
        (!best || root.prefix.length > best.prefix.length)
      ) {
        best = root;
      }
    }
    if (best) {
      const root = this._roots.root(best.name)!;
      return `${S3_DRIVE}:${this._roots.pathOf(root, key)}`;
    }
    return this._listAll ? `${S3_DRIVE}:${bucket}/${key}` : null;
  }

  private _roots: RootMap;
  private _listAll: boolean;
}
