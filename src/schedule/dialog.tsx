/**
 * The "Schedule this notebook" form: a main-area widget (room for the
 * parameter form and the preview), rendering a {@link ScheduleModel}.
 *
 * Stable selectors for UI tests: the form is `.jp-smallfry-ScheduleDialog`;
 * every input has `name` = the spec path it edits (`id`, `schedule.cron`,
 * `parameters.<name>`…); a problem is `.jp-smallfry-FieldError[data-field]`;
 * preview rows are `.jp-smallfry-PreviewRun`; the submit button is
 * `.jp-smallfry-ScheduleButton`.
 */
import { ReactWidget, UseSignal } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import type { IJob } from './api';
import { SCHEDULE_CHOICES } from '../contract';
import {
  FieldError,
  FieldRow,
  ITextField,
  ParameterInput,
  TextField,
  TextFields
} from './field';
import {
  IDestinationRow,
  IScheduleForm,
  NOTIFY_EVENTS,
  NotifyEvent,
  ScheduleModel
} from './model';

/** IANA zones the browser knows, for the picker. */
function timeZones(): string[] {
  try {
    const zones = (Intl as any).supportedValuesOf('timeZone') as string[];
    return zones.includes('UTC') ? zones : ['UTC', ...zones];
  } catch {
    return ['UTC'];
  }
}

/** The job's own fields. */
function jobFields(trans: TranslationBundle): ITextField[] {
  return [
    {
      label: trans.__('Id'),
      field: 'id',
      name: 'id',
      help: trans.__('lower-case letters, digits, - and _')
    },
    { label: trans.__('Title'), field: 'title', name: 'title' }
  ];
}

/** When a scheduled job runs. */
function scheduleFields(trans: TranslationBundle): ITextField[] {
  return [
    {
      label: trans.__('Cron'),
      field: 'schedule.cron',
      name: 'cron',
      placeholder: '0 6 * * 1-5',
      help: trans.__(
        'minute hour day-of-month month day-of-week, or @hourly @daily @weekly @monthly @quarterly @yearly'
      )
    },
    {
      label: trans.__('Time zone'),
      field: 'schedule.timezone',
      name: 'timezone',
      list: 'jp-smallfry-timezones'
    },
    {
      label: trans.__('Start date'),
      field: 'schedule.start_date',
      name: 'startDate',
      placeholder: '2026-01-31',
      help: trans.__('YYYY-MM-DD or YYYY-MM-DDTHH:MM, in the time zone')
    }
  ];
}

/** Retries, time limit, the role and the tags. */
function runFields(trans: TranslationBundle): ITextField[] {
  const number = (
    label: string,
    field: string,
    name: keyof IScheduleForm
  ): ITextField => ({ label, field, name, type: 'number' });
  return [
    number(trans.__('Retries'), 'retries.count', 'retries'),
    number(
      trans.__('Retry delay (minutes)'),
      'retries.delay_seconds',
      'retryDelayMinutes'
    ),
    number(trans.__('Timeout (minutes)'), 'timeout_seconds', 'timeoutMinutes'),
    {
      label: trans.__('Run as role (ARN)'),
      field: 'run_as.role_arn',
      name: 'roleArn',
      placeholder: 'arn:aws:iam::123456789012:role/reports'
    },
    {
      label: trans.__('Tags'),
      field: 'tags',
      name: 'tags',
      placeholder: 'sales, daily'
    }
  ];
}

function Checkbox(props: {
  model: ScheduleModel;
  label: string;
  name: keyof IScheduleForm;
}): JSX.Element {
  return (
    <label className="jp-smallfry-Check">
      <input
        type="checkbox"
        name={props.name}
        checked={!!props.model.form[props.name]}
        onChange={e => props.model.set(props.name, e.target.checked as any)}
      />
      {props.label}
    </label>
  );
}

function Parameters(props: {
  model: ScheduleModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const skipped = model.notebook?.cell?.skipped ?? [];
  return (
    <fieldset className="jp-smallfry-Parameters">
      <legend>{trans.__('Parameters')}</legend>
      {model.parameters.length === 0 && (
        <div className="jp-smallfry-Muted">
          {trans.__('No parameters: the notebook runs as it is.')}
        </div>
      )}
      {model.parameters.map(p => {
        const field = `parameters.${p.name}`;
        return (
          <FieldRow
            key={p.name}
            model={model}
            tag="div"
            className="jp-smallfry-Parameter"
            field={field}
            label={
              <>
                <code>{p.name}</code>{' '}
                <span className="jp-smallfry-Type">{p.type}</span>
              </>
            }
            help={p.comment}
          >
            <ParameterInput
              name={p.name}
              type={p.type}
              text={p.text}
              placeholder={p.defaultText}
              invalid={!!model.errors[field]}
              trans={trans}
              onChange={text => model.setParameter(p.name, text)}
            />
            {!p.known && (
              <button
                type="button"
                className="jp-mod-styled jp-smallfry-LinkButton"
                onClick={() => model.removeParameter(p.name)}
              >
                {trans.__('Remove')}
              </button>
            )}
          </FieldRow>
        );
      })}
      {skipped.length > 0 && (
        <div className="jp-smallfry-Muted">
          {trans.__(
            'Not offered (not a simple assignment): %1',
            skipped.join('; ')
          )}
        </div>
      )}
    </fieldset>
  );
}

/** The "After" field: the owner's other jobs, ticked when this one waits for them. */
function AfterJobs(props: {
  model: ScheduleModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const jobs = model.otherJobs;
  const listed = model.jobsListed;
  return (
    <FieldRow
      model={model}
      tag="div"
      className="jp-smallfry-After"
      label={trans.__('After')}
      field="after"
      help={trans.__(
        'Runs once each ticked job has succeeded since this one last ran; it has no times of its own.'
      )}
    >
      <div className="jp-smallfry-AfterJobs">
        {jobs.map(j => (
          <label key={j.id} className="jp-smallfry-Check">
            <input
              type="checkbox"
              name="after"
              value={j.id}
              checked={model.form.after.includes(j.id)}
              onChange={e => model.setAfter(j.id, e.target.checked)}
            />
            <code>{j.id}</code>
            {j.title && j.title !== j.id ? ` ${j.title}` : ''}
            {j.missing && (
              <span className="jp-smallfry-Muted">
                {' '}
                {trans.__('(not among your jobs)')}
              </span>
            )}
          </label>
        ))}
        {listed === null && (
          <span className="jp-smallfry-Muted">
            {trans.__('Listing your jobs…')}
          </span>
        )}
        {listed === true && jobs.length === 0 && (
          <span className="jp-smallfry-Muted">
            {trans.__('You have no other jobs to run after yet.')}
          </span>
        )}
        {typeof listed === 'string' && (
          <span className="jp-smallfry-Muted">
            {trans.__('Your jobs cannot be listed: %1', listed)}
          </span>
        )}
      </div>
    </FieldRow>
  );
}

/** What a destination's text is, by its kind, for the placeholder. */
function targetPlaceholder(row: IDestinationRow): string {
  if (row.type === 'email') {
    return 'alice@example.com';
  }
  return row.via === 'secret'
    ? 'smallfry/notify/team-channel'
    : `smallfry_notify_${row.type === 'webhook' ? 'ops' : row.type}`;
}

/** One destination: its kind, where a webhook's URL is kept, the name. */
function Destination(props: {
  model: ScheduleModel;
  trans: TranslationBundle;
  event: NotifyEvent;
  index: number;
  row: IDestinationRow;
}): JSX.Element {
  const { model, trans, event, index, row } = props;
  const path = `notifications.${event}${event === 'on_duration_over' ? '.to' : ''}.${index}`;
  const types: [IDestinationRow['type'], string][] = [
    ['email', trans.__('E-mail')],
    ['slack', trans.__('Slack')],
    ['teams', trans.__('Microsoft Teams')],
    ['webhook', trans.__('Webhook (JSON)')]
  ];
  return (
    <div
      className="jp-smallfry-Destination"
      data-event={event}
      data-index={index}
    >
      <select
        className="jp-mod-styled"
        name={`${path}.type`}
        aria-label={trans.__('Kind')}
        value={row.type}
        onChange={e =>
          model.setDestination(event, index, {
            type: e.target.value as IDestinationRow['type']
          })
        }
      >
        {types.map(([type, label]) => (
          <option key={type} value={type}>
            {label}
          </option>
        ))}
      </select>
      {row.type !== 'email' && (
        <select
          className="jp-mod-styled"
          name={`${path}.via`}
          aria-label={trans.__('Where its URL is kept')}
          value={row.via}
          onChange={e =>
            model.setDestination(event, index, {
              via: e.target.value as IDestinationRow['via']
            })
          }
        >
          <option value="connection">{trans.__('Airflow connection')}</option>
          <option value="secret">{trans.__('Secrets Manager secret')}</option>
        </select>
      )}
      <input
        className="jp-mod-styled jp-smallfry-Input"
        name={path}
        aria-label={
          row.type === 'email'
            ? trans.__('E-mail address')
            : row.via === 'secret'
              ? trans.__('Secret name or ARN')
              : trans.__('Connection id')
        }
        value={row.target}
        placeholder={targetPlaceholder(row)}
        onChange={e =>
          model.setDestination(event, index, { target: e.target.value })
        }
      />
      <button
        type="button"
        className="jp-mod-styled jp-smallfry-LinkButton"
        onClick={() => model.removeDestination(event, index)}
      >
        {trans.__('Remove')}
      </button>
    </div>
  );
}

/**
 * Who is told: on failure, on success, when a run takes longer than a
 * number of minutes. A webhook's URL is a secret, so there is no URL field:
 * the form names where it is kept.
 */
function Notifications(props: {
  model: ScheduleModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const labels: { [E in NotifyEvent]: string } = {
    on_failure: trans.__('When a run fails'),
    on_success: trans.__('When a run succeeds'),
    on_duration_over: trans.__('When a run takes longer than')
  };
  return (
    <fieldset className="jp-smallfry-Notifications">
      <legend>{trans.__('Notifications')}</legend>
      <div className="jp-smallfry-Muted">
        {trans.__(
          'Send to an e-mail address, or to Slack, Microsoft Teams or a JSON webhook. A webhook URL is a secret, so it is never typed here: name the Airflow connection that holds it (its id starts with smallfry_notify_; your administrator creates it) or a Secrets Manager secret holding it, read with the job’s role.'
        )}
      </div>
      {NOTIFY_EVENTS.map(event => {
        const field =
          event === 'on_duration_over'
            ? 'notifications.on_duration_over.to'
            : `notifications.${event}`;
        const rows = model.form.notify[event];
        return (
          <FieldRow
            key={event}
            model={model}
            tag="div"
            className="jp-smallfry-NotifyEvent"
            field={field}
            label={labels[event]}
          >
            <div className="jp-smallfry-Destinations" data-event={event}>
              {event === 'on_duration_over' && (
                <>
                  <label className="jp-smallfry-Minutes">
                    <input
                      className="jp-mod-styled jp-smallfry-Input"
                      name="notifications.on_duration_over.seconds"
                      type="number"
                      min={1}
                      value={model.form.durationMinutes}
                      aria-invalid={
                        !!model.errors['notifications.on_duration_over.seconds']
                      }
                      onChange={e =>
                        model.set('durationMinutes', e.target.value)
                      }
                    />{' '}
                    {trans.__('minutes')}
                  </label>
                  <FieldError
                    model={model}
                    field="notifications.on_duration_over.seconds"
                  />
                  <FieldError
                    model={model}
                    field="notifications.on_duration_over"
                  />
                </>
              )}
              {rows.map((row, index) => (
                <Destination
                  key={index}
                  model={model}
                  trans={trans}
                  event={event}
                  index={index}
                  row={row}
                />
              ))}
              <button
                type="button"
                className="jp-mod-styled jp-smallfry-LinkButton jp-smallfry-AddDestination"
                onClick={() => model.addDestination(event)}
              >
                {trans.__('Add destination')}
              </button>
            </div>
          </FieldRow>
        );
      })}
    </fieldset>
  );
}

function Schedule(props: {
  model: ScheduleModel;
  trans: TranslationBundle;
  zones: string[];
}): JSX.Element {
  const { model, trans } = props;
  const f = model.form;
  const preset = SCHEDULE_CHOICES.find(p => p.cron === f.cron.trim());
  const scheduleTypes: [IScheduleForm['scheduleType'], string][] = [
    ['cron', trans.__('On a schedule')],
    ['after', trans.__('After other jobs succeed')],
    ['manual', trans.__('Only when run by hand')]
  ];
  return (
    <fieldset className="jp-smallfry-Schedule">
      <legend>{trans.__('Schedule')}</legend>
      <div className="jp-smallfry-Radios">
        {scheduleTypes.map(([type, label]) => (
          <label key={type}>
            <input
              type="radio"
              name="schedule.type"
              value={type}
              checked={f.scheduleType === type}
              onChange={() => model.set('scheduleType', type)}
            />
            {label}
          </label>
        ))}
      </div>
      {f.scheduleType === 'after' && <AfterJobs model={model} trans={trans} />}
      {f.scheduleType === 'cron' && (
        <>
          <FieldRow model={model} label={trans.__('Preset')}>
            <select
              className="jp-mod-styled"
              name="preset"
              value={preset?.cron ?? ''}
              onChange={e => {
                if (e.target.value) {
                  model.set('cron', e.target.value);
                }
              }}
            >
              <option value="">{trans.__('Custom (cron)')}</option>
              {SCHEDULE_CHOICES.map(p => (
                <option key={p.cron} value={p.cron}>
                  {trans.__(p.label)}
                </option>
              ))}
            </select>
          </FieldRow>
          <TextFields model={model} fields={scheduleFields(trans)} />
          <datalist id="jp-smallfry-timezones">
            {props.zones.map(z => (
              <option key={z} value={z} />
            ))}
          </datalist>
          <Checkbox
            model={model}
            label={trans.__('Catch up on runs missed since the start date')}
            name="catchup"
          />
        </>
      )}
      <div className="jp-smallfry-Preview" aria-live="polite">
        {model.preview.error ? (
          <div className="jp-smallfry-Muted">{model.preview.error}</div>
        ) : (
          <>
            <div className="jp-smallfry-PreviewDescription">
              {model.preview.description}
            </div>
            {model.preview.runs.length > 0 && (
              <>
                <div className="jp-smallfry-Muted">
                  {trans.__('Next runs (as Airflow fires them):')}
                </div>
                <ol className="jp-smallfry-PreviewRuns">
                  {model.preview.runs.map(r => (
                    <li
                      key={r.utc}
                      className="jp-smallfry-PreviewRun"
                      data-utc={r.utc}
                      data-dst={r.dst}
                      title={r.utc}
                    >
                      {r.local.replace('T', ' ')}
                      {r.dst && (
                        <span className="jp-smallfry-PreviewDst">
                          {' '}
                          {dstNote(r.dst, trans)}
                        </span>
                      )}
                    </li>
                  ))}
                </ol>
              </>
            )}
            {model.preview.note && (
              <div className="jp-smallfry-Muted jp-smallfry-PreviewNote">
                {model.preview.note}
              </div>
            )}
          </>
        )}
      </div>
    </fieldset>
  );
}

/** What a DST change does to a run, as the server flagged it. */
function dstNote(
  dst: 'repeated' | 'skipped',
  trans: TranslationBundle
): string {
  return dst === 'repeated'
    ? trans.__(
        '(clocks go back that night, so this time comes twice; the offset says which)'
      )
    : trans.__(
        '(clocks go forward that night: the scheduled time does not exist, so it runs after the change)'
      );
}

function ScheduleForm(props: {
  model: ScheduleModel;
  trans: TranslationBundle;
  onDone: (job: IJob) => void;
  onCancel: () => void;
}): JSX.Element {
  const { model, trans } = props;
  const zones = React.useMemo(timeZones, []);
  const submit = async () => {
    const job = await model.submit();
    if (job) {
      props.onDone(job);
    }
  };
  return (
    <UseSignal signal={model.changed}>
      {() => (
        <form
          className="jp-smallfry-ScheduleForm"
          onSubmit={e => {
            e.preventDefault();
            void submit();
          }}
        >
          <h2 className="jp-smallfry-Heading">
            {model.isEdit
              ? trans.__('Edit job %1', model.form.id)
              : trans.__('Schedule %1', model.notebook?.source ?? '')}
          </h2>
          {model.warnings.map(w => (
            <div
              key={w.kind + w.message}
              className="jp-smallfry-Warning"
              data-kind={w.kind}
            >
              {w.message}
            </div>
          ))}
          <FieldError model={model} field="" />
          <FieldError model={model} field="notebook" />
          <fieldset>
            <legend>{trans.__('Job')}</legend>
            <TextFields model={model} fields={jobFields(trans)} />
            {model.isEdit && model.notebook && (
              <Checkbox
                model={model}
                label={trans.__(
                  'Run the notebook as it is now (take a new snapshot)'
                )}
                name="resnapshot"
              />
            )}
          </fieldset>
          <Parameters model={model} trans={trans} />
          <Schedule model={model} trans={trans} zones={zones} />
          <fieldset>
            <legend>{trans.__('Output and runs')}</legend>
            <TextField
              model={model}
              label={trans.__('Output location')}
              field="output.uri_template"
              name="outputTemplate"
              placeholder={trans.__('Default: the server’s runs location')}
              help={trans.__(
                's3://bucket/prefix/{owner}/{job_id}/{run_id}/ or an absolute folder'
              )}
            />
            <Checkbox
              model={model}
              label={trans.__('Also write HTML')}
              name="html"
            />
            <Checkbox
              model={model}
              label={trans.__('Hide code cells in the output')}
              name="hideCode"
            />
            <TextFields model={model} fields={runFields(trans)} />
          </fieldset>
          <Notifications model={model} trans={trans} />
          <div className="jp-smallfry-Buttons">
            <button
              type="button"
              className="jp-mod-styled jp-mod-reject"
              onClick={props.onCancel}
            >
              {trans.__('Cancel')}
            </button>
            <button
              type="submit"
              className="jp-mod-styled jp-mod-accept jp-smallfry-ScheduleButton"
              disabled={model.saving}
            >
              {model.isEdit ? trans.__('Save') : trans.__('Schedule')}
            </button>
          </div>
        </form>
      )}
    </UseSignal>
  );
}

/**
 * The form as a widget; `done` settles with the saved job, or `null` when
 * the user cancels or closes it.
 */
export class ScheduleDialog extends ReactWidget {
  constructor(options: { model: ScheduleModel; trans: TranslationBundle }) {
    super();
    this.model = options.model;
    this._trans = options.trans;
    this.addClass('jp-smallfry-ScheduleDialog');
    // Focusable, so activating the tab can move the focus here (see below).
    this.node.tabIndex = -1;
    // The server's first answer: problems of the job as it starts, next runs.
    void this.model.check();
    // The jobs the "After" field offers.
    void this.model.loadJobs();
  }

  /** The form's model. */
  readonly model: ScheduleModel;

  /** Settles when the job is saved (the job) or the form is left (`null`). */
  get done(): Promise<IJob | null> {
    return this._done;
  }

  dispose(): void {
    this._resolve(null);
    this.model.dispose();
    super.dispose();
  }

  /**
   * Take the focus when the tab is activated: the shell only counts a widget
   * as current once it holds the focus, and until then typing went to the
   * notebook behind the form. The first field once React has drawn it.
   */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    if (!this.node.contains(document.activeElement)) {
      this.node.focus();
    }
    void this.renderPromise?.then(() => {
      if (this.isDisposed || document.activeElement !== this.node) {
        return;
      }
      this.node
        .querySelector<HTMLElement>('input:not([type="hidden"]), select')
        ?.focus();
    });
  }

  protected render(): JSX.Element {
    return (
      <ScheduleForm
        model={this.model}
        trans={this._trans}
        onDone={job => {
          this._resolve(job);
          this.dispose();
        }}
        onCancel={() => this.dispose()}
      />
    );
  }

  private _trans: TranslationBundle;
  private _resolve!: (job: IJob | null) => void;
  private _done = new Promise<IJob | null>(resolve => {
    this._resolve = resolve;
  });
}
