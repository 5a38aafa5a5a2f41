/**
 * A job's run history in the Jobs panel: each run with its status icon,
 * start and end, duration, what started it and its parameters; a run under
 * way with its progress ticking; a failed run with its failing cell, error
 * and traceback; the S3 objects a run read and wrote; the actions on a run
 * (re-run, other parameters, reproduce) and the checks for a comparison.
 *
 * Stable selectors for UI tests: a run is `.jp-smallfry-Run[data-status]
 * [data-run-id]`; `.jp-smallfry-RunProgress` ("cell i of n"),
 * `.jp-smallfry-RunOutputTail`, `.jp-smallfry-RunError`,
 * `.jp-smallfry-RunLineage` (a `details`: click its `summary` to open) with
 * `a.jp-smallfry-LineageLink[data-uri]`, `.jp-smallfry-RunTrigger
 * [data-trigger]`, `.jp-smallfry-RunParameters`; per job
 * `.jp-smallfry-RunFilter` (select), `.jp-smallfry-RunsMore`,
 * `.jp-smallfry-RunsLess`; per run `.jp-smallfry-Rerun`,
 * `.jp-smallfry-RunWithParameters`, `.jp-smallfry-Reproduce`,
 * `.jp-smallfry-CompareCheck`; per job `.jp-smallfry-Compare`.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  checkIcon,
  circleEmptyIcon,
  circleIcon,
  closeIcon,
  LabIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatBytes } from '../core/format';
import type { IJob, ILineageObject, IRunManifest, IRunProgress } from './api';
import { JobsModel, NEWEST_RUNS } from './jobs';
import {
  ICompareRequest,
  isActive,
  objectUri,
  parametersLine,
  positionOf,
  RUN_FILTERS,
  RunFilter,
  sourceHead,
  triggerOf
} from './runs';

/** What the run history needs from its surroundings. */
export interface IRunActions {
  /** Open the output notebook of a run; returns false when it cannot. */
  openOutput(uri: string): Promise<boolean>;
  /** Show an `s3://` object in the S3 browser; false when it cannot. */
  openS3?(uri: string): Promise<boolean>;
  /** Open the comparison of two runs (or a run and the notebook). */
  compare?(request: ICompareRequest): Promise<void>;
  /** Re-run with the same parameters. */
  rerun(job: IJob, run: IRunManifest): void;
  /** Ask for parameters, then run with them. */
  runWithParameters(job: IJob, run: IRunManifest): void;
  /** Show which inputs changed, then reproduce. */
  reproduce(job: IJob, run: IRunManifest): void;
}

/** `90` → `1 min 30 s`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || seconds === undefined) {
    return '';
  }
  const s = Math.round(seconds);
  if (s < 60) {
    return `${s} s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  }
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** An instant in the browser's language, in `timeZone` when given. */
export function formatTime(iso: string | null, timeZone?: string): string {
  if (!iso) {
    return '';
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return iso;
  }
  const options: Intl.DateTimeFormatOptions = {
    dateStyle: 'medium',
    timeStyle: 'short'
  };
  try {
    return d.toLocaleString(undefined, { ...options, timeZone });
  } catch {
    return d.toLocaleString(undefined, options);
  }
}

/**
 * When a run ended: only the time when it ended the day it started (the
 * date is right before it), else date and time.
 */
export function formatEnd(start: string | null, end: string | null): string {
  if (!end) {
    return '';
  }
  const s = new Date(start ?? '');
  const e = new Date(end);
  if (Number.isNaN(e.getTime())) {
    return end;
  }
  if (!Number.isNaN(s.getTime()) && s.toDateString() === e.toDateString()) {
    return e.toLocaleTimeString(undefined, { timeStyle: 'short' });
  }
  return formatTime(end);
}

/** JupyterLab's icons for a run's status (colour from the CSS). */
const STATUS_ICONS: { [status: string]: LabIcon } = {
  success: checkIcon,
  failed: closeIcon,
  running: circleIcon,
  queued: circleEmptyIcon
};

/** What started a run, in words. */
export function triggerLabel(
  trans: TranslationBundle,
  trigger: string
): string {
  switch (trigger) {
    case 'schedule':
      return trans.__('schedule');
    case 'run_now':
      return trans.__('Run now');
    case 'retry':
      return trans.__('retry');
    case 'upstream':
      return trans.__('upstream job');
    case 'rerun':
      return trans.__('re-run');
    case 'reproduce':
      return trans.__('reproduction');
    case 'parameters':
      return trans.__('other parameters');
    default:
      return trigger;
  }
}

/**
 * The current time, ticking every second while `ticking` (a run under way
 * shows its elapsed time without waiting for the next poll).
 */
function useNow(ticking: boolean): number {
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    if (!ticking) {
      return;
    }
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

/** How far a run under way got: cell i of n, elapsed, the last output. */
export function RunProgress(props: {
  run: IRunManifest;
  progress: IRunProgress | null;
  trans: TranslationBundle;
}): JSX.Element {
  const { run, progress, trans } = props;
  const now = useNow(true);
  const position = positionOf(run, progress, now);
  const tail = progress?.output_tail ?? [];
  return (
    <div className="jp-smallfry-RunLive">
      <div className="jp-smallfry-RunProgress">
        {position.cells > 0 && (
          <progress
            className="jp-smallfry-RunBar"
            max={position.cells}
            value={position.cell}
          />
        )}{' '}
        <span className="jp-smallfry-RunCell">
          {position.cell > 0 && position.cells > 0
            ? trans.__('cell %1 of %2', position.cell, position.cells)
            : run.status === 'queued'
              ? trans.__('waiting to start')
              : trans.__('starting')}
        </span>{' '}
        <span className="jp-smallfry-RunElapsed">
          {trans.__('%1 elapsed', formatDuration(position.elapsed))}
        </span>
      </div>
      {progress?.cell_source_head && (
        <code className="jp-smallfry-RunCellHead">
          {progress.cell_source_head}
        </code>
      )}
      {tail.length > 0 && (
        <pre className="jp-smallfry-RunOutputTail">{tail.join('\n')}</pre>
      )}
    </div>
  );
}

/** The failing cell of a run, its error and its traceback. */
export function RunFailure(props: {
  error: NonNullable<IRunManifest['error']>;
  trans: TranslationBundle;
  /** Opens the partial output; absent when it cannot be opened here. */
  openOutput?: () => void;
}): JSX.Element {
  const { error, trans } = props;
  const source = sourceHead(error.cell_source);
  const cellName =
    error.execution_count !== null && error.execution_count !== undefined
      ? trans.__('Cell [%1]', error.execution_count)
      : error.cell_index !== undefined
        ? trans.__('Cell %1', error.cell_index + 1)
        : '';
  return (
    <div className="jp-smallfry-RunFailure">
      <div className="jp-smallfry-RunError" title={error.traceback}>
        {error.type}: {error.message}
      </div>
      {(cellName || source.head) && (
        <div className="jp-smallfry-RunFailingCell">
          {cellName && (
            <span className="jp-smallfry-RunFailingCellName">
              {trans.__('Failed in %1', cellName)}
            </span>
          )}
          {source.head && (
            <pre className="jp-smallfry-RunFailingSource">
              {source.head}
              {source.more ? '\n…' : ''}
            </pre>
          )}
        </div>
      )}
      {error.traceback && (
        <details className="jp-smallfry-RunTraceback">
          <summary>{trans.__('Traceback')}</summary>
          <pre>{error.traceback}</pre>
        </details>
      )}
      {props.openOutput && (
        <a
          href="#"
          className="jp-smallfry-RunPartialOutput"
          onClick={e => {
            e.preventDefault();
            props.openOutput!();
          }}
        >
          {trans.__('Open the partial output')}
        </a>
      )}
    </div>
  );
}

function LineageList(props: {
  title: string;
  objects: ILineageObject[];
  kind: 'read' | 'write';
  openS3?: (uri: string) => Promise<boolean>;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { objects, openS3, trans } = props;
  if (objects.length === 0) {
    return null;
  }
  return (
    <>
      <div className="jp-smallfry-LineageTitle">{props.title}</div>
      <ul className="jp-smallfry-LineageObjects" data-kind={props.kind}>
        {objects.map(o => {
          const uri = objectUri(o);
          const details = [
            formatBytes(o.bytes),
            o.etag ? trans.__('ETag %1', o.etag) : '',
            o.version_id ? trans.__('version %1', o.version_id) : ''
          ].filter(Boolean);
          return (
            <li key={uri} className="jp-smallfry-LineageObject">
              {openS3 ? (
                <a
                  href="#"
                  className="jp-smallfry-LineageLink"
                  data-uri={uri}
                  title={trans.__('Show %1 in the S3 browser', uri)}
                  onClick={e => {
                    e.preventDefault();
                    void openS3(uri);
                  }}
                >
                  {uri}
                </a>
              ) : (
                <code className="jp-smallfry-LineageLink" data-uri={uri}>
                  {uri}
                </code>
              )}{' '}
              <span className="jp-smallfry-Muted">{details.join(' · ')}</span>
            </li>
          );
        })}
      </ul>
    </>
  );
}

/** The S3 objects a run read and wrote. */
export function RunLineage(props: {
  run: IRunManifest;
  trans: TranslationBundle;
  openS3?: (uri: string) => Promise<boolean>;
}): JSX.Element | null {
  const { run, trans } = props;
  const lineage = run.lineage;
  if (!lineage || lineage.reads.length + lineage.writes.length === 0) {
    return null;
  }
  return (
    <details className="jp-smallfry-RunLineage">
      <summary>
        {trans.__(
          'Data: %1 read, %2 written',
          lineage.reads.length,
          lineage.writes.length
        )}
      </summary>
      <LineageList
        title={trans.__('Read')}
        kind="read"
        objects={lineage.reads}
        openS3={props.openS3}
        trans={trans}
      />
      <LineageList
        title={trans.__('Written')}
        kind="write"
        objects={lineage.writes}
        openS3={props.openS3}
        trans={trans}
      />
      {lineage.truncated && (
        <div className="jp-smallfry-Muted">
          {trans.__('The run touched more objects than were recorded.')}
        </div>
      )}
    </details>
  );
}

/** The parameters of a run in one line, the whole of each on demand. */
function RunParameters(props: {
  run: IRunManifest;
  trans: TranslationBundle;
}): JSX.Element | null {
  const parameters = props.run.parameters ?? {};
  const names = Object.keys(parameters);
  if (names.length === 0) {
    return null;
  }
  const line = parametersLine(parameters);
  return (
    <details className="jp-smallfry-RunParameters">
      <summary title={line}>{line}</summary>
      <table>
        <tbody>
          {names.map(name => (
            <tr key={name} data-parameter={name}>
              <th>
                <code>{name}</code>
              </th>
              <td>
                <code>
                  {parametersLine({ [name]: parameters[name] }).slice(
                    name.length + 1
                  )}
                </code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** One run of a job. */
export function RunRow(props: {
  job: IJob;
  run: IRunManifest;
  model: JobsModel;
  trans: TranslationBundle;
  actions: IRunActions;
}): JSX.Element {
  const { job, run, model, trans, actions } = props;
  const [unopenable, setUnopenable] = React.useState(false);
  const status = String(run.status);
  const jobId = job.spec.id;
  const trigger = triggerOf(run);
  const active = isActive(run);
  const busy = model.busy.has(jobId);
  const Icon = STATUS_ICONS[status];
  const open = async () => {
    if (!(await actions.openOutput(run.output_uri))) {
      setUnopenable(true);
    }
  };
  const end = formatEnd(run.start, run.end);
  return (
    <li
      className={`jp-smallfry-Run jp-mod-${status}`}
      data-status={status}
      data-run-id={run.run_id}
    >
      <div className="jp-smallfry-RunLine">
        {actions.compare && (
          <input
            type="checkbox"
            className="jp-smallfry-CompareCheck"
            title={trans.__('Compare this run')}
            aria-label={trans.__('Compare run %1', run.run_id)}
            checked={model.checked(jobId).includes(run.run_id)}
            onChange={() => model.toggleChecked(jobId, run.run_id)}
          />
        )}
        <span className="jp-smallfry-RunStatus" title={run.run_id}>
          {Icon && (
            <Icon.react
              tag="span"
              className="jp-smallfry-RunIcon"
              elementSize="small"
            />
          )}
          {status}
        </span>{' '}
        <span
          className="jp-smallfry-RunTime"
          title={
            end
              ? trans.__(
                  'Started %1, ended %2',
                  formatTime(run.start),
                  formatTime(run.end)
                )
              : trans.__('Started %1', formatTime(run.start))
          }
        >
          {formatTime(run.start)}
        </span>
        {end && (
          <span className="jp-smallfry-RunEnd">
            {' → '}
            {end}
          </span>
        )}{' '}
        <span className="jp-smallfry-RunDuration">
          {formatDuration(run.duration_seconds)}
        </span>{' '}
        <span className="jp-smallfry-RunTrigger" data-trigger={trigger}>
          {triggerLabel(trans, trigger)}
        </span>{' '}
        {unopenable ? (
          <code className="jp-smallfry-RunUri" title={run.output_uri}>
            {run.output_uri}
          </code>
        ) : (
          <a
            href="#"
            className="jp-smallfry-RunOutput"
            title={run.output_uri}
            onClick={e => {
              e.preventDefault();
              void open();
            }}
          >
            {trans.__('output')}
          </a>
        )}
      </div>
      {run.upstream && run.upstream.length > 0 && (
        <div className="jp-smallfry-RunUpstream">
          {trans.__(
            'After %1',
            run.upstream.map(u => `${u.job_id} (${u.run_id})`).join(', ')
          )}
        </div>
      )}
      <RunParameters run={run} trans={trans} />
      {active && (
        <RunProgress
          run={run}
          progress={model.progress(jobId, run.run_id)?.progress ?? null}
          trans={trans}
        />
      )}
      {run.error && (
        <RunFailure
          error={run.error}
          trans={trans}
          openOutput={unopenable ? undefined : () => void open()}
        />
      )}
      <RunLineage run={run} trans={trans} openS3={actions.openS3} />
      {!active && (
        <div className="jp-smallfry-RunActions">
          <button
            className="jp-mod-styled jp-smallfry-Rerun"
            disabled={busy}
            title={trans.__(
              'Run the job again with the parameters of this run'
            )}
            onClick={() => actions.rerun(job, run)}
          >
            {trans.__('Re-run')}
          </button>
          <button
            className="jp-mod-styled jp-smallfry-RunWithParameters"
            disabled={busy}
            title={trans.__('Run the job once with other parameters')}
            onClick={() => actions.runWithParameters(job, run)}
          >
            {trans.__('Other parameters…')}
          </button>
          <button
            className="jp-mod-styled jp-smallfry-Reproduce"
            disabled={busy || !run.notebook}
            title={trans.__(
              'Run the very notebook of this run again with its parameters'
            )}
            onClick={() => actions.reproduce(job, run)}
          >
            {trans.__('Reproduce…')}
          </button>
        </div>
      )}
    </li>
  );
}

/** The runs of a job: filter, list, more, compare. */
export function JobRuns(props: {
  job: IJob;
  model: JobsModel;
  trans: TranslationBundle;
  actions: IRunActions;
}): JSX.Element {
  const { job, model, trans, actions } = props;
  const id = job.spec.id;
  const history = model.history(id);
  const runs = model.runsOf(id);
  const request = actions.compare ? model.compareRequest(id) : null;
  const filterLabels: { [filter: string]: string } = {
    '': trans.__('All runs'),
    success: trans.__('Succeeded'),
    failed: trans.__('Failed'),
    running: trans.__('Running or queued')
  };
  if (!history.expanded && runs.length === 0) {
    return <div className="jp-smallfry-Muted">{trans.__('No runs yet')}</div>;
  }
  // The listing has a job's newest few: more may exist when it has that many.
  const more = history.expanded
    ? history.next !== null
    : runs.length >= NEWEST_RUNS;
  return (
    <div className="jp-smallfry-JobRuns">
      <div className="jp-smallfry-RunsHeader">
        <select
          className="jp-mod-styled jp-smallfry-RunFilter"
          aria-label={trans.__('Show runs of status')}
          value={history.filter}
          onChange={e => void model.setFilter(id, e.target.value as RunFilter)}
        >
          {(['', ...RUN_FILTERS] as RunFilter[]).map(f => (
            <option key={f} value={f}>
              {filterLabels[f]}
            </option>
          ))}
        </select>
        {request && (
          <button
            className="jp-mod-styled jp-mod-accept jp-smallfry-Compare"
            data-remote={request.remote}
            onClick={() => void actions.compare!(request)}
          >
            {request.remote === 'notebook'
              ? trans.__("Compare with the job's notebook")
              : trans.__('Compare')}
          </button>
        )}
      </div>
      {history.error && (
        <div className="jp-smallfry-Warning" role="alert">
          {history.error}
        </div>
      )}
      {runs.length === 0 && !history.loading ? (
        <div className="jp-smallfry-Muted">
          {trans.__('No runs of this status')}
        </div>
      ) : (
        <ul className="jp-smallfry-Runs">
          {runs.map(run => (
            <RunRow
              key={run.run_id}
              job={job}
              run={run}
              model={model}
              trans={trans}
              actions={actions}
            />
          ))}
        </ul>
      )}
      <div className="jp-smallfry-RunsPager">
        {history.loading && (
          <span className="jp-smallfry-Muted">{trans.__('Loading…')}</span>
        )}
        {more && !history.loading && (
          <button
            className="jp-mod-styled jp-smallfry-RunsMore"
            onClick={() => void model.showMore(id)}
          >
            {history.expanded
              ? trans.__('More runs')
              : trans.__('Show more runs')}
          </button>
        )}
        {history.expanded && (
          <button
            className="jp-mod-styled jp-smallfry-RunsLess"
            onClick={() => model.collapse(id)}
          >
            {trans.__('Show the newest only')}
          </button>
        )}
      </div>
    </div>
  );
}
