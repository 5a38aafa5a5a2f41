/**
 * The one REST call of the comparison: `GET smallfry/jobs/<id>/compare`.
 *
 * The server computes the notebook diff with nbdime's own Python differ
 * (`nbdime.diff_notebooks`), so the answer's `base` and `diff` are exactly
 * what nbdime's web components take; the browser never diffs notebooks.
 * Payload types mirror the Python JSON (snake_case).
 */
import type * as nbformat from '@jupyterlab/nbformat';
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../api';
import { serverPath } from '../contract';
import type { ParameterValue } from '../schedule/api';

/** What to compare: two runs of a job, or a run and the job's notebook. */
export interface ICompareRequest {
  /** The job both sides belong to. */
  jobId: string;
  /** The run shown on the left. */
  base: string;
  /** The run shown on the right, or `'notebook'`: the job's own snapshot. */
  remote: string;
}

/** One S3 object a run read or wrote (`run.json` `lineage`). */
export interface ILineageObject {
  bucket: string;
  key: string;
  etag?: string | null;
  version_id?: string | null;
  bytes?: number | null;
}

/**
 * The parts of a `run.json` the comparison shows. Everything is optional:
 * runs written before a field existed simply lack it.
 */
export interface ICompareManifest {
  run_id?: string;
  status?: string;
  start?: string | null;
  end?: string | null;
  duration_seconds?: number | null;
  trigger?: string;
  try_number?: number;
  triggered_by?: string;
  upstream?: { job_id: string; run_id: string }[];
  notebook?: { uri?: string; sha256?: string };
  error?: {
    type?: string;
    message?: string;
    cell_index?: number;
    execution_count?: number | null;
  } | null;
  lineage?: {
    reads?: ILineageObject[];
    writes?: ILineageObject[];
    truncated?: boolean;
  };
}

/** Answer of `GET smallfry/jobs/<id>/compare?base=&remote=`. */
export interface ICompareAnswer {
  /** The base notebook, as nbdime's `/api/diff` returns it. */
  base: nbformat.INotebookContent;
  /** nbdime's diff of base → remote (a list of nbdime diff entries). */
  diff: unknown[];
  /** The parameters each side ran with (the notebook: the job's own). */
  parameters: {
    base: { [name: string]: ParameterValue };
    remote: { [name: string]: ParameterValue };
  };
  /** The two `run.json`; `remote` is `null` for the job's notebook. */
  manifests: { base: ICompareManifest; remote: ICompareManifest | null };
}

/**
 * Ask the server for the comparison.
 *
 * @throws `APIError` (a `ServerConnection.ResponseError` carrying the
 *   server's message) when it refuses, e.g. a run that does not exist.
 */
export function fetchCompare(
  settings: ServerConnection.ISettings,
  req: ICompareRequest
): Promise<ICompareAnswer> {
  const query = new URLSearchParams({ base: req.base, remote: req.remote });
  const path = `${serverPath('jobs')}/${encodeURIComponent(req.jobId)}/compare?${query}`;
  return requestAPI<ICompareAnswer>(path, settings);
}
