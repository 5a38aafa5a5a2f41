/**
 * Typed REST client of the notebook jobs endpoints (`/smallfry/jobs…`).
 *
 * Payload interfaces mirror the Python JSON of
 * `server-ext/jupyterlab_smallfry/jobs/handlers.py` exactly (snake_case).
 * Everything goes through `requestAPI`, so tests replace this module's one
 * dependency (`../api`) and UI tests can intercept one URL family.
 */
import { ServerConnection } from '@jupyterlab/services';

import { IFieldError, requestAPI } from '../api';
import { serverPath } from '../contract';

/** The spec format version this front end writes. */
export const API_VERSION = 'smallfry/v1';

/** A parameter value: any JSON value, types kept. */
export type ParameterValue =
  | string
  | number
  | boolean
  | null
  | ParameterValue[]
  | { [key: string]: ParameterValue };

/**
 * The notebook of a job: a content-addressed snapshot taken by the server
 * (as stored), or `source` (the path or `s3://` URI of the notebook) to ask
 * the server to take one (when scheduling or re-scheduling).
 */
export interface IJobNotebook {
  uri?: string;
  sha256?: string;
  kernel?: string;
  source_path?: string;
  snapshot_time?: string;
  /** Request only: the notebook to snapshot. */
  source?: string;
}

/** When a job runs. */
export interface IJobSchedule {
  type: 'manual' | 'cron';
  /** 5-field cron or an Airflow preset (`@daily`…). */
  cron?: string;
  /** IANA time zone. */
  timezone?: string;
  /** Wall time in `timezone`: `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`. */
  start_date?: string;
  catchup?: boolean;
}

/** A job spec (`jobspec.schema.json`). */
export interface IJobSpec {
  apiVersion?: string;
  kind?: string;
  id: string;
  title?: string;
  description?: string;
  /** Stamped by the server from the signed-in user. */
  owner?: string;
  notebook?: IJobNotebook;
  parameters?: { [name: string]: ParameterValue };
  schedule: IJobSchedule;
  paused?: boolean;
  retries?: { count?: number; delay_seconds?: number };
  timeout_seconds?: number;
  output?: {
    uri_template?: string;
    formats?: ('ipynb' | 'html')[];
    hide_code?: boolean;
  };
  notifications?: IJobNotifications;
  /** Jobs (same owner) whose success starts this one. */
  after?: string[];
  run_as?: { role_arn?: string };
  image?: string;
  tags?: string[];
}

/**
 * A notification destination: an e-mail address, or a reference to where a
 * webhook URL is kept (an Airflow connection or a Secrets Manager secret);
 * the URL itself never reaches the browser.
 */
export type NotificationDestination =
  | string
  | { type: 'email'; to: string }
  | {
      type: 'slack' | 'teams' | 'webhook';
      connection?: string;
      secret?: string;
    };

/** Who is told what (`notifications` of a spec). */
export interface IJobNotifications {
  on_failure?: NotificationDestination[];
  on_success?: NotificationDestination[];
  on_duration_over?: { seconds: number; to: NotificationDestination[] };
}

/** What started a run (`triggered_by` of `run.json`). */
export type RunTrigger =
  | 'schedule'
  | 'run_now'
  | 'retry'
  | 'upstream'
  | 'rerun'
  | 'reproduce'
  | 'parameters';

/** One S3 object a run read or wrote (`lineage` of `run.json`). */
export interface ILineageObject {
  bucket: string;
  key: string;
  /** As S3 gives it, quotes stripped. */
  etag: string | null;
  version_id: string | null;
  bytes: number | null;
}

/** The S3 objects a run read and wrote. */
export interface IRunLineage {
  reads: ILineageObject[];
  writes: ILineageObject[];
  /** More objects were touched than recorded. */
  truncated: boolean;
}

/** One notification sent for a run (never a URL or a secret). */
export interface IRunNotification {
  event: 'failure' | 'success' | 'duration_over' | string;
  type: string;
  /** The connection id, the secret name or the e-mail address. */
  target: string;
  ok: boolean;
  error?: string | null;
}

/** Status of one run in its `run.json`. */
export type RunStatus = 'queued' | 'running' | 'success' | 'failed';

/** A run manifest (`runs/<owner>/<job>/<run_id>/run.json`). */
export interface IRunManifest {
  apiVersion?: string;
  kind?: string;
  job_id: string;
  owner: string;
  run_id: string;
  trigger?: 'server' | 'airflow' | string;
  /** What started it; absent on runs from before it was recorded. */
  triggered_by?: RunTrigger | string;
  /** The upstream runs whose success started this one (chained jobs). */
  upstream?: { job_id: string; run_id: string }[];
  try_number?: number;
  status: RunStatus | string;
  parameters?: { [name: string]: ParameterValue };
  notebook?: { uri: string; sha256: string };
  /** Where the executed notebook is (or will be). */
  output_uri: string;
  start: string | null;
  end: string | null;
  duration_seconds: number | null;
  /** Number of code cells of the notebook. */
  cells?: number;
  lineage?: IRunLineage;
  notifications?: IRunNotification[];
  error: {
    type: string;
    message: string;
    cell_index?: number;
    execution_count?: number | null;
    cell_source?: string;
    traceback?: string;
  } | null;
}

/**
 * What the runner says about a run while it executes (`progress.json` next
 * to `run.json`).
 */
export interface IRunProgress {
  state: 'running' | 'done' | string;
  /** 1-based number of the code cell executing (or the last one done). */
  cell: number;
  /** Number of code cells. */
  cells: number;
  started: string;
  updated: string;
  elapsed_seconds: number;
  /** First line of the cell executing. */
  cell_source_head?: string;
  /** The last lines of text output so far. */
  output_tail?: string[];
}

/** Answer of `GET /smallfry/jobs/<id>/runs/<run_id>`. */
export interface IRunDetail {
  run: IRunManifest;
  progress: IRunProgress | null;
}

/** Answer of `GET /smallfry/jobs/<id>/runs`: a page, newest first. */
export interface IRunPage {
  runs: IRunManifest[];
  /** Pass as `before` for the next page; `null`: no more. */
  next: string | null;
}

/** Which runs to list. */
export interface IRunQuery {
  limit?: number;
  status?: 'success' | 'failed' | 'running';
  before?: string | null;
}

/** One input of a run as it is now (`GET …/runs/<run_id>/inputs`). */
export interface IRunInput {
  bucket: string;
  key: string;
  /** The ETag the run read. */
  etag: string | null;
  /** The ETag now; `null` when it is gone. */
  etag_now: string | null;
  changed: boolean;
  missing: boolean;
}

/** Answer of `GET /smallfry/jobs/<id>/runs/<run_id>/inputs`. */
export interface IRunInputs {
  inputs: IRunInput[];
}

/**
 * How to start a run (`POST /smallfry/jobs/<id>/run`): as the spec says
 * (no body), with other parameters, the same parameters as a past run, or
 * that run's very notebook snapshot and parameters.
 */
export type RunRequest =
  | { parameters: { [name: string]: ParameterValue } }
  | { rerun: string }
  | { reproduce: string };

/** One job with its newest runs, as every jobs endpoint answers. */
export interface IJob {
  spec: IJobSpec;
  runs: IRunManifest[];
  dag_id: string;
  /** The stored version; sent back as `If-Match` so a concurrent edit is a 409. */
  etag?: string;
  /**
   * The next run as Airflow will fire it (ISO, UTC), computed by the server;
   * `null` for a manual or paused job.
   */
  next_run?: string | null;
}

/** One upcoming run, as the server computes it (Airflow's timetable). */
export interface IUpcomingRun {
  /** `2026-03-29T01:30:00Z` */
  utc: string;
  /** `2026-03-29T03:30:00+02:00`, in the schedule's time zone. */
  local: string;
  /**
   * Set when a DST change touches the run: `repeated` when its wall time
   * comes twice that night, `skipped` when its wall time does not exist that
   * night (the run is later by the change).
   */
  dst?: 'repeated' | 'skipped';
}

/** When a cron schedule runs (`schedule` of a check's answer). */
export interface IScheduleAnswer {
  /** The 5-field cron (a preset expanded). */
  cron: string;
  timezone: string;
  /** The start date as an instant. */
  start: { utc: string; local: string };
  /** The next runs at or after the later of now and the start date. */
  next_runs: IUpcomingRun[];
  /**
   * Runs whose time has passed that Airflow starts as soon as it picks up a
   * new job (every one since the start date with catch-up, else the most
   * recent one); `null` when none. `capped`: there are more than `count`.
   */
  at_once: { count: number; capped: boolean; first: IUpcomingRun } | null;
}

/** Answer of `POST /smallfry/jobs/check`. */
export interface ICheckAnswer {
  /** Every problem of the draft, on its field (empty: it can be saved). */
  errors: IFieldError[];
  /** For a valid cron schedule, when it runs; otherwise `null`. */
  schedule: IScheduleAnswer | null;
}

/** Answer of `GET /smallfry/jobs`. */
export interface IJobList {
  jobs: IJob[];
  jobs_uri: string;
  runs_uri: string;
}

/** Answer of `POST /smallfry/jobs/<id>/run`. */
export interface IRunStarted {
  run_id: string;
  run_uri: string;
  output_uri: string;
  /** Set when Airflow runs it (an Airflow API URL is configured). */
  airflow?: boolean;
  dag_id?: string;
  /** Reproduce: the inputs that changed since the run it repeats. */
  changed_inputs?: IRunInput[];
}

/**
 * Where the jobs endpoints are, below the extension's namespace (the
 * contract's `server_paths.jobs`): every URL of this client starts here.
 */
const JOBS = serverPath('jobs');

function jobPath(id: string, action?: string): string {
  const base = `${JOBS}/${encodeURIComponent(id)}`;
  return action ? `${base}/${action}` : base;
}

function json(method: string, body?: unknown, etag?: string): RequestInit {
  const init: RequestInit =
    body === undefined ? { method } : { method, body: JSON.stringify(body) };
  if (etag) {
    init.headers = { 'If-Match': etag };
  }
  return init;
}

/**
 * The REST calls of the jobs endpoints; every refusal is an `APIError`
 * (`../api`): a `ServerConnection.ResponseError` carrying the server's
 * message and, in `errors`, each problem on its field (e.g. `{field: "id",
 * message: "a job 'x' already exists; edit it or pick another id"}`).
 */
export namespace JobsAPI {
  /** My jobs with their newest runs. */
  export function list(
    settings: ServerConnection.ISettings
  ): Promise<IJobList> {
    return requestAPI<IJobList>(JOBS, settings);
  }

  /** One job with its newest runs. */
  export function get(
    settings: ServerConnection.ISettings,
    id: string
  ): Promise<IJob> {
    return requestAPI<IJob>(jobPath(id), settings);
  }

  /** Schedule a new job (409 if the id is taken). */
  export function create(
    settings: ServerConnection.ISettings,
    spec: IJobSpec
  ): Promise<IJob> {
    return requestAPI<IJob>(JOBS, settings, json('POST', spec));
  }

  /**
   * Replace a job's spec; with `etag`, only the version the user saw (409 if
   * someone changed it meanwhile).
   */
  export function update(
    settings: ServerConnection.ISettings,
    id: string,
    spec: IJobSpec,
    etag?: string
  ): Promise<IJob> {
    return requestAPI<IJob>(jobPath(id), settings, json('PUT', spec, etag));
  }

  /**
   * Every problem of a draft spec on its field and, for a cron schedule, its
   * next runs as Airflow fires them; nothing is written.
   *
   * @param now - the instant to preview from (default: the server's clock)
   */
  export function check(
    settings: ServerConnection.ISettings,
    spec: IJobSpec,
    now?: string
  ): Promise<ICheckAnswer> {
    const body = now === undefined ? { spec } : { spec, now };
    return requestAPI<ICheckAnswer>(
      `${JOBS}/check`,
      settings,
      json('POST', body)
    );
  }

  /** Delete a job (its runs stay where they are). */
  export async function remove(
    settings: ServerConnection.ISettings,
    id: string
  ): Promise<void> {
    await requestAPI<void>(jobPath(id), settings, json('DELETE'));
  }

  /** Pause (`true`) or resume (`false`) a job's schedule (`etag` as for `update`). */
  export function setPaused(
    settings: ServerConnection.ISettings,
    id: string,
    paused: boolean,
    etag?: string
  ): Promise<IJob> {
    return requestAPI<IJob>(
      jobPath(id, paused ? 'pause' : 'resume'),
      settings,
      json('POST', undefined, etag)
    );
  }

  /**
   * Run a job once, now: as its spec says, or as `request` asks (other
   * parameters, a past run's parameters, a past run reproduced).
   */
  export function runNow(
    settings: ServerConnection.ISettings,
    id: string,
    request?: RunRequest
  ): Promise<IRunStarted> {
    return requestAPI<IRunStarted>(
      jobPath(id, 'run'),
      settings,
      json('POST', request)
    );
  }

  /** A page of a job's runs, newest first, read from the run index. */
  export function runs(
    settings: ServerConnection.ISettings,
    id: string,
    query: IRunQuery = {}
  ): Promise<IRunPage> {
    const params = new URLSearchParams();
    if (query.limit !== undefined) {
      params.set('limit', String(query.limit));
    }
    if (query.status) {
      params.set('status', query.status);
    }
    if (query.before) {
      params.set('before', query.before);
    }
    const search = params.toString();
    return requestAPI<IRunPage>(
      `${jobPath(id, 'runs')}${search ? `?${search}` : ''}`,
      settings
    );
  }

  /** One run with its progress (two reads by key on the server, no listing). */
  export function run(
    settings: ServerConnection.ISettings,
    id: string,
    runId: string
  ): Promise<IRunDetail> {
    return requestAPI<IRunDetail>(
      jobPath(id, `runs/${encodeURIComponent(runId)}`),
      settings
    );
  }

  /** The objects a run read, each as it is now (changed, gone). */
  export function inputs(
    settings: ServerConnection.ISettings,
    id: string,
    runId: string
  ): Promise<IRunInputs> {
    return requestAPI<IRunInputs>(
      jobPath(id, `runs/${encodeURIComponent(runId)}/inputs`),
      settings
    );
  }
}
