/**
 * What the Jobs panel says about one run, worked out from its `run.json`
 * and `progress.json`: what started it, its parameters in a line, how far it
 * got, which two runs to compare. Pure functions, no DOM and no requests, so
 * the rules are tested on their own.
 */
import type {
  ILineageObject,
  IRunManifest,
  IRunProgress,
  ParameterValue,
  RunTrigger
} from './api';
import { formatValue, typeOf } from './parameters';

/** Statuses the history filter offers (the server's `status` query). */
export const RUN_FILTERS = ['success', 'failed', 'running'] as const;

/** A status the history filter offers, or `''` for every run. */
export type RunFilter = (typeof RUN_FILTERS)[number] | '';

/** Whether a run has not ended yet. */
export function isActive(run: Pick<IRunManifest, 'status'>): boolean {
  return run.status === 'running' || run.status === 'queued';
}

/**
 * What started a run. Runs recorded before `triggered_by` existed are read
 * the way the design fixes it: an Airflow `scheduled__` run id is the
 * schedule, `asset_triggered__` an upstream job, a second try a retry, and
 * anything else a Run now.
 */
export function triggerOf(run: IRunManifest): RunTrigger | string {
  if (run.triggered_by) {
    return run.triggered_by;
  }
  if (run.run_id.startsWith('scheduled__')) {
    return 'schedule';
  }
  if (run.run_id.startsWith('asset_triggered__')) {
    return 'upstream';
  }
  if ((run.try_number ?? 1) > 1) {
    return 'retry';
  }
  return 'run_now';
}

/** Python's spelling of a value, as the notebook would show it. */
export function pythonValue(value: ParameterValue): string {
  const type = typeOf(value);
  switch (type) {
    case 'None':
      return 'None';
    case 'bool':
      return value ? 'True' : 'False';
    case 'str':
      return `'${String(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    default:
      return formatValue(type, value);
  }
}

/** `{region: 'EU', days: 1}` → `region='EU', days=1`. */
export function parametersLine(
  parameters: { [name: string]: ParameterValue } | undefined
): string {
  return Object.entries(parameters ?? {})
    .map(([name, value]) => `${name}=${pythonValue(value)}`)
    .join(', ');
}

/** What the panel shows of a running run. */
export interface IRunPosition {
  /** 1-based number of the code cell executing; 0 before the first. */
  cell: number;
  /** Number of code cells; 0 when not known yet. */
  cells: number;
  /** Seconds since the run started, at `now`. */
  elapsed: number;
}

/**
 * Where a run is at `now` (ms): the cell from its progress, the elapsed
 * time counted from its start so it ticks between two polls.
 */
export function positionOf(
  run: IRunManifest,
  progress: IRunProgress | null,
  now: number
): IRunPosition {
  const started = Date.parse(progress?.started ?? run.start ?? '');
  let elapsed = Number.isNaN(started)
    ? (progress?.elapsed_seconds ?? 0)
    : (now - started) / 1000;
  if (progress && elapsed < progress.elapsed_seconds) {
    // The browser's clock is behind the runner's: never count backwards.
    elapsed = progress.elapsed_seconds;
  }
  return {
    cell: progress?.cell ?? 0,
    cells: progress?.cells ?? run.cells ?? 0,
    elapsed: Math.max(0, elapsed)
  };
}

/** The first `lines` lines of a cell's source, and whether more follow. */
export function sourceHead(
  source: string | undefined,
  lines = 3
): { head: string; more: boolean } {
  const all = (source ?? '').replace(/\s+$/, '').split('\n');
  return { head: all.slice(0, lines).join('\n'), more: all.length > lines };
}

/** `s3://bucket/key` of a lineage entry. */
export function objectUri(o: Pick<ILineageObject, 'bucket' | 'key'>): string {
  return `s3://${o.bucket}/${o.key}`;
}

/** Which two runs of a job to compare (`remote`: a run or the notebook). */
export interface ICompareRequest {
  jobId: string;
  base: string;
  remote: string;
}

/**
 * The comparison two or one checked runs ask for: the older run is the
 * base, so the diff reads forward in time; one run is compared with the
 * job's notebook as it is now. `null` for none or more than two.
 */
export function compareRequest(
  jobId: string,
  checked: readonly IRunManifest[]
): ICompareRequest | null {
  if (checked.length === 1) {
    return { jobId, base: checked[0].run_id, remote: 'notebook' };
  }
  if (checked.length !== 2) {
    return null;
  }
  const [a, b] = checked;
  const time = (r: IRunManifest) => Date.parse(r.start ?? '') || 0;
  const older =
    time(a) < time(b) || (time(a) === time(b) && a.run_id < b.run_id);
  return older
    ? { jobId, base: a.run_id, remote: b.run_id }
    : { jobId, base: b.run_id, remote: a.run_id };
}
