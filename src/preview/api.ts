/**
 * Typed client of `GET smallfry/preview`, mirroring the Python JSON exactly
 * (`jupyterlab_smallfry/preview/`).
 */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../api';
import { serverPath } from '../contract';

/** Rows the preview asks for unless told otherwise (the server's default). */
export const DEFAULT_ROWS = 1000;

/** What to preview: an S3 object, or a file under the server's root. */
export type PreviewSource = { uri: string } | { path: string };

/** One column: its name, Arrow type (e.g. `timestamp[us, tz=UTC]`), nullability. */
export interface IPreviewField {
  name: string;
  type: string;
  nullable: boolean;
}

/** What a Parquet footer says about one top-level column, over all row groups. */
export interface IColumnStatistics {
  /** Smallest value, rendered like a cell (null when the footer has none). */
  min: PreviewCell;
  max: PreviewCell;
  /** Nulls in the whole file (null when a row group did not count them). */
  null_count: number | null;
}

/**
 * A cell as the server renders it: JSON scalars; timestamps ISO 8601 with
 * their zone, decimals and big integers as text, nested values as JSON text,
 * bytes as hex (or their length), null as null.
 */
export type PreviewCell = string | number | boolean | null;

/** Answer of `GET smallfry/preview`. */
export interface IPreview {
  /** `s3://bucket/key` of an S3 object, else null. */
  uri: string | null;
  /** The local path (relative to the server root), else null. */
  path: string | null;
  format: 'parquet' | 'csv' | 'tsv' | 'jsonl';
  /** `"gzip"` for `.gz` objects, else `""`. */
  compression: '' | 'gzip';
  /** The object's size in bytes. */
  size: number;
  schema: IPreviewField[];
  /** Rows of the whole file when the format knows them (Parquet), else null. */
  num_rows: number | null;
  /** Parquet only: row groups in the file, and how many were read. */
  row_groups?: { count: number; read: number };
  /** Parquet only: statistics by column name (empty for text formats). */
  statistics: { [column: string]: IColumnStatistics };
  /** CSV/TSV: the delimiter used. */
  delimiter?: string | null;
  /** The first rows, one array per row, in `schema` order. */
  rows: PreviewCell[][];
  /** Whether the file has more rows than `rows`. */
  truncated: boolean;
  /** Bytes really read from S3 (or the disk) to answer, and in how many reads. */
  bytes_read: number;
  requests: number;
}

/**
 * Fetch the preview of a source.
 *
 * @param source - the S3 object or local file
 * @param settings - the server connection settings
 * @param rows - rows wanted (the server may return fewer for wide tables)
 * @throws APIError carrying the server's message (404, 403, 415, 422…)
 */
export function fetchPreview(
  source: PreviewSource,
  settings: ServerConnection.ISettings,
  rows = DEFAULT_ROWS
): Promise<IPreview> {
  const query = new URLSearchParams({
    ...('uri' in source ? { uri: source.uri } : { path: source.path }),
    rows: String(rows)
  });
  return requestAPI<IPreview>(
    `${serverPath('preview')}?${query.toString()}`,
    settings
  );
}
