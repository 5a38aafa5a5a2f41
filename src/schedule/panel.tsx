/**
 * The Jobs panel (left sidebar): the user's jobs, their schedule in words,
 * next run, paused or not, recent runs with status, duration and a link to
 * the executed notebook; pause/resume, edit, delete, run now.
 *
 * Stable selectors for UI tests: the panel is `#smallfry-jobs-panel`
 * (`.jp-smallfry-JobsPanel`); a job is `.jp-smallfry-Job[data-job-id]`; its
 * buttons are `.jp-smallfry-RunNow`, `.jp-smallfry-Pause`, `.jp-smallfry-Edit`,
 * `.jp-smallfry-Delete`; a run is `.jp-smallfry-Run[data-status]` and its
 * output link `.jp-smallfry-RunOutput`.
 */
import {
  Dialog,
  Notification,
  ReactWidget,
  showDialog,
  UseSignal
} from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { refreshIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import type { IJob, IRunManifest } from './api';
import { scheduleIcon } from './icons';
import { JobsModel } from './jobs';

/** What the panel needs from its surroundings. */
export interface IJobsPanelActions {
  /** Open the output notebook of a run; returns false when it cannot. */
  openOutput(uri: string): Promise<boolean>;
  /** Re-open the schedule dialog on a job. */
  edit(job: IJob): void;
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

function formatTime(iso: string | null, timeZone?: string): string {
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

function RunRow(props: {
  run: IRunManifest;
  trans: TranslationBundle;
  actions: IJobsPanelActions;
}): JSX.Element {
  const { run, trans, actions } = props;
  const [unopenable, setUnopenable] = React.useState(false);
  const status = String(run.status);
  return (
    <li
      className={`jp-smallfry-Run jp-mod-${status}`}
      data-status={status}
      data-run-id={run.run_id}
    >
      <span className="jp-smallfry-RunStatus">{status}</span>{' '}
      <span className="jp-smallfry-RunTime">{formatTime(run.start)}</span>{' '}
      <span className="jp-smallfry-RunDuration">
        {formatDuration(run.duration_seconds)}
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
          onClick={async e => {
            e.preventDefault();
            if (!(await actions.openOutput(run.output_uri))) {
              setUnopenable(true);
            }
          }}
        >
          {trans.__('output')}
        </a>
      )}
      {run.error && (
        <div className="jp-smallfry-RunError" title={run.error.traceback}>
          {run.error.type}: {run.error.message}
        </div>
      )}
    </li>
  );
}

function JobRow(props: {
  job: IJob;
  model: JobsModel;
  trans: TranslationBundle;
  actions: IJobsPanelActions;
}): JSX.Element {
  const { job, model, trans, actions } = props;
  const spec = job.spec;
  const summary = model.summary(spec.id);
  const busy = model.busy.has(spec.id);
  const paused = !!spec.paused;
  const act = (what: () => Promise<unknown>) => async () => {
    try {
      await what();
    } catch (err) {
      Notification.error(
        trans.__('%1: %2', spec.id, (err as Error).message ?? String(err))
      );
    }
  };
  const remove = async () => {
    const answer = await showDialog({
      title: trans.__('Delete job %1?', spec.id),
      body: trans.__(
        'The job stops running. Outputs of past runs stay where they are.'
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Delete') })
      ]
    });
    if (answer.button.accept) {
      await act(() => model.remove(spec.id))();
    }
  };
  return (
    <li
      className={`jp-smallfry-Job${paused ? ' jp-mod-paused' : ''}`}
      data-job-id={spec.id}
    >
      <div className="jp-smallfry-JobTitle">
        <strong>{spec.title || spec.id}</strong>{' '}
        <span className="jp-smallfry-JobState">
          {paused ? trans.__('paused') : trans.__('enabled')}
        </span>
      </div>
      <div className="jp-smallfry-JobSchedule">
        {spec.schedule.type === 'manual'
          ? trans.__('Runs only when started by hand')
          : trans.__(
              '%1 (%2)',
              summary.description || spec.schedule.cron || '',
              spec.schedule.timezone ?? ''
            )}
      </div>
      {summary.nextRun && (
        <div className="jp-smallfry-JobNext">
          {trans.__(
            'Next run: %1',
            formatTime(summary.nextRun, spec.schedule.timezone)
          )}
        </div>
      )}
      <div className="jp-smallfry-JobButtons">
        <button
          className="jp-mod-styled jp-smallfry-RunNow"
          disabled={busy}
          onClick={act(async () => {
            await model.runNow(spec.id);
            Notification.info(trans.__('Started a run of %1', spec.id), {
              autoClose: 3000
            });
          })}
        >
          {trans.__('Run now')}
        </button>
        <button
          className="jp-mod-styled jp-smallfry-Pause"
          disabled={busy || spec.schedule.type === 'manual'}
          onClick={act(() => model.setPaused(spec.id, !paused))}
        >
          {paused ? trans.__('Resume') : trans.__('Pause')}
        </button>
        <button
          className="jp-mod-styled jp-smallfry-Edit"
          disabled={busy}
          onClick={() => actions.edit(job)}
        >
          {trans.__('Edit')}
        </button>
        <button
          className="jp-mod-styled jp-smallfry-Delete"
          disabled={busy}
          onClick={() => void remove()}
        >
          {trans.__('Delete')}
        </button>
      </div>
      {job.runs.length === 0 ? (
        <div className="jp-smallfry-Muted">{trans.__('No runs yet')}</div>
      ) : (
        <ul className="jp-smallfry-Runs">
          {job.runs.map(run => (
            <RunRow
              key={run.run_id}
              run={run}
              trans={trans}
              actions={actions}
            />
          ))}
        </ul>
      )}
    </li>
  );
}

/**
 * The panel widget. Polls while visible, stands by while hidden.
 */
export class JobsPanel extends ReactWidget {
  constructor(options: {
    model: JobsModel;
    trans: TranslationBundle;
    actions: IJobsPanelActions;
  }) {
    super();
    this.model = options.model;
    this._trans = options.trans;
    this._actions = options.actions;
    this.id = 'smallfry-jobs-panel';
    this.addClass('jp-smallfry-JobsPanel');
    this.title.icon = scheduleIcon;
    this.title.caption = this._trans.__('Notebook jobs');
  }

  /** The panel's model (owned: disposed with the panel). */
  readonly model: JobsModel;

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.visible = true;
    this.model.start();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.visible = false;
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    return (
      <UseSignal signal={this.model.changed}>
        {() => (
          <div className="jp-smallfry-JobsBody">
            <div className="jp-smallfry-JobsHeader">
              <h3>{trans.__('Notebook jobs')}</h3>
              <button
                className="jp-mod-styled jp-smallfry-Refresh"
                title={trans.__('Refresh')}
                aria-label={trans.__('Refresh')}
                onClick={() => void this.model.refresh().catch(() => 0)}
              >
                <refreshIcon.react tag="span" />
              </button>
            </div>
            {this.model.error && (
              <div className="jp-smallfry-Warning" role="alert">
                {this.model.error}
              </div>
            )}
            {!this.model.loaded ? (
              <div className="jp-smallfry-Muted">{trans.__('Loading…')}</div>
            ) : this.model.jobs.length === 0 ? (
              <div className="jp-smallfry-Muted">
                {trans.__(
                  'No jobs yet. Open a notebook and click Schedule in its toolbar, or right-click a notebook in a file browser.'
                )}
              </div>
            ) : (
              <ul className="jp-smallfry-Jobs">
                {this.model.jobs.map(job => (
                  <JobRow
                    key={job.spec.id}
                    job={job}
                    model={this.model}
                    trans={trans}
                    actions={this._actions}
                  />
                ))}
              </ul>
            )}
          </div>
        )}
      </UseSignal>
    );
  }

  private _trans: TranslationBundle;
  private _actions: IJobsPanelActions;
}
