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
  TextField,
  TextFields
} from './field';
import { IScheduleForm, ScheduleModel } from './model';

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

/** Retries, time limit, who hears of failures, the role and the tags. */
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
      label: trans.__('Email on failure'),
      field: 'notifications.on_failure',
      name: 'emails',
      placeholder: 'alice@example.com, team@example.com'
    },
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
            {p.type === 'bool' ? (
              <select
                className="jp-mod-styled"
                name={field}
                value={p.text}
                onChange={e => model.setParameter(p.name, e.target.value)}
              >
                <option value="true">True</option>
                <option value="false">False</option>
              </select>
            ) : (
              <input
                className="jp-mod-styled jp-smallfry-Input"
                name={field}
                type={
                  p.type === 'int' || p.type === 'float' ? 'number' : 'text'
                }
                step={p.type === 'float' ? 'any' : undefined}
                value={p.text}
                placeholder={
                  p.type === 'None' ? trans.__('None') : p.defaultText
                }
                aria-invalid={!!model.errors[field]}
                onChange={e => model.setParameter(p.name, e.target.value)}
              />
            )}
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
