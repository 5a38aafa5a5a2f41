/**
 * Between S3 drive paths (`S3:<root name>/<key>`) and `s3://` URIs, for the
 * notebook to snapshot and for opening run outputs through the S3 browser.
 * The mapping itself is the drive's (`RootMap`, the contract's rule); this
 * only adds and strips the drive name.
 */
import { DRIVE_NAME } from '../contract';
import type { RootMap } from '../s3/paths';

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
   * drive path, a local path as it is; `null` for an S3 path that names no
   * object the drive can show.
   */
  sourceOf(path: string): string | null {
    const prefix = `${DRIVE_NAME}:`;
    if (!path.startsWith(prefix)) {
      return path;
    }
    return this._roots.uri(path.slice(prefix.length), this._listAll);
  }

  /**
   * The S3 drive path that opens `uri`, or `null` when the S3 browser does
   * not show that location.
   */
  drivePathOf(uri: string): string | null {
    const path = this._roots.pathOfUri(uri, this._listAll);
    return path === null ? null : `${DRIVE_NAME}:${path}`;
  }

  private _roots: RootMap;
  private _listAll: boolean;
}
