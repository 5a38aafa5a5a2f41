/**
 * The Jobs panel (left sidebar): the user's jobs, their schedule in words,
 * next run, paused or not, the jobs they run after, and their run history
 * (`history.tsx`); pause/resume, edit, delete, run now.
 *
 * Stable selectors for UI tests: the panel is `#smallfry-jobs-panel`
 * (`.jp-smallfry-JobsPanel`); a job is `.jp-smallfry-Job[data-job-id]`; its
 * buttons are `.jp-smallfry-RunNow`, `.jp-smallfry-Pause`, `.jp-smallfry-Edit`,
 * `.jp-smallfry-Delete`; the jobs it runs after `.jp-smallfry-JobAfter`; a
 * run is `.jp-smallfry-Run[data-status]` and its output link
 * `.jp-smallfry-RunOutput`; the run history's own selectors are listed in
 * `history.tsx`.
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

import type { IJob, IRunStarted } from './api';
import { formatDuration, formatTime, IRunActions, JobRuns } from './history';
import { scheduleIcon } from './icons';
import { JobsModel } from './jobs';
import { askParameters, changedInputs, confirmReproduce } from './rerun';
import type { ICompareRequest } from './runs';

/** What the panel needs from its surroundings. */
export interface IJobsPanelActions {
  /** Open the output notebook of a run; returns false when it cannot. */
  openOutput(uri: string): Promise<boolean>;
  /** Re-open the schedule dialog on a job. */
  edit(job: IJob): void;
  /**
   * Show an `s3://` object in the S3 browser (a run's lineage); false when
   * the S3 browser does not show its location. Without it, addresses are
   * shown as text.
   */
  openS3?(uri: string): Promise<boolean>;
  /**
   * Open the comparison of two runs of a job, or of a run and the job's
   * notebook. Without it, runs have no compare checks.
   */
  compare?(request: ICompareRequest): Promise<void>;
}

export { formatDuration };

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
  const started = (what: string) => (run: IRunStarted | null) => {
    if (run) {
      Notification.info(trans.__('Started %1 of %2', what, spec.id), {
        autoClose: 3000
      });
    }
  };
  const runActions: IRunActions = {
    openOutput: actions.openOutput,
    openS3: actions.openS3,
    compare: actions.compare,
    rerun: (_, run) =>
      void act(() =>
        model.rerun(spec.id, run.run_id).then(started(trans.__('a re-run')))
      )(),
    runWithParameters: (_, run) =>
      void act(async () => {
        const parameters = await askParameters(trans, job, run);
        if (parameters) {
          started(trans.__('a run'))(
            await model.runWithParameters(spec.id, parameters)
          );
        }
      })(),
    reproduce: (_, run) =>
      void act(async () => {
        const { inputs } = await model.inputs(spec.id, run.run_id);
        if (!(await confirmReproduce(trans, run, inputs))) {
          return;
        }
        const answer = await model.reproduce(spec.id, run.run_id);
        // The server looked again when it started: say what it found.
        const changed = changedInputs(answer?.changed_inputs ?? []);
        if (changed.length > 0) {
          Notification.warning(
            trans.__(
              'Reproducing %1 with %2 inputs that changed since.',
              run.run_id,
              changed.length
            ),
            { autoClose: 6000 }
          );
        } else {
          started(trans.__('a reproduction'))(answer);
        }
      })()
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
      {spec.after && spec.after.length > 0 && (
        <div className="jp-smallfry-JobAfter" data-after={spec.after.join(' ')}>
          {trans.__('Runs after: %1', spec.after.join(', '))}
        </div>
      )}
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
      <JobRuns job={job} model={model} trans={trans} actions={runActions} />
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
