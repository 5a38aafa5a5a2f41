/**
 * Which source a document path previews: an `S3:` drive path maps to its
 * `s3://` URI through the core's `RootMap` (the one mapping the drive and
 * the server share); a path without a drive is a local file.
 */
import { DRIVE_NAME } from '../contract';
import type { RootMap } from '../s3/paths';
import type { PreviewSource } from './api';

/**
 * The preview source of a document path.
 *
 * @param path - a contents path, e.g. `S3:root/key.parquet` or `data/a.csv`
 * @param roots - the S3 drive's root map
 * @param listAllBuckets - whether the drive shows listed buckets
 * @returns the source, or `null` for another drive or an S3 path that names
 *   no object
 */
export function previewSource(
  path: string,
  roots: RootMap | null,
  listAllBuckets: boolean
): PreviewSource | null {
  const colon = path.indexOf(':');
  const slash = path.indexOf('/');
  const drive =
    colon > 0 && (slash === -1 || colon < slash) ? path.slice(0, colon) : '';
  if (drive === '') {
    return { path };
  }
  if (drive !== DRIVE_NAME || roots === null) {
    return null;
  }
  const uri = roots.uri(path.slice(colon + 1), listAllBuckets);
  return uri === null ? null : { uri };
}
