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
import { SCHEDULE_PRESETS } from './cron';
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

function FieldError(props: {
  model: ScheduleModel;
  field: string;
}): JSX.Element | null {
  const message = props.model.errors[props.field];
  return message ? (
    <div
      className="jp-smallfry-FieldError"
      data-field={props.field}
      role="alert"
    >
      {message}
    </div>
  ) : null;
}

function TextField(props: {
  model: ScheduleModel;
  trans: TranslationBundle;
  label: string;
  field: string;
  name: keyof IScheduleForm;
  placeholder?: string;
  help?: string;
  type?: string;
  list?: string;
}): JSX.Element {
  const { model, field, name } = props;
  const invalid = !!model.errors[field];
  return (
    <label className="jp-smallfry-Field" data-field={field}>
      <span className="jp-smallfry-FieldLabel">{props.label}</span>
      <input
        className="jp-mod-styled jp-smallfry-Input"
        name={field}
        type={props.type ?? 'text'}
        list={props.list}
        value={String(model.form[name])}
        placeholder={props.placeholder}
        aria-invalid={invalid}
        onChange={e => model.set(name, e.target.value as any)}
      />
      {props.help && (
        <span className="jp-smallfry-FieldHelp">{props.help}</span>
      )}
      <FieldError model={model} field={field} />
    </label>
  );
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
          <div
            key={p.name}
            className="jp-smallfry-Field jp-smallfry-Parameter"
            data-field={field}
          >
            <span className="jp-smallfry-FieldLabel">
              <code>{p.name}</code>{' '}
              <span className="jp-smallfry-Type">{p.type}</span>
            </span>
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
                className="jp-mod-styled jp-smallfry-LinkButton"
                onClick={() => model.removeParameter(p.name)}
              >
                {trans.__('Remove')}
              </button>
            )}
            {p.comment && (
              <span className="jp-smallfry-FieldHelp">{p.comment}</span>
            )}
            <FieldError model={model} field={field} />
          </div>
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
  const preset = SCHEDULE_PRESETS.find(p => p.cron === f.cron.trim());
  return (
    <fieldset className="jp-smallfry-Schedule">
      <legend>{trans.__('Schedule')}</legend>
      <div className="jp-smallfry-Radios">
        <label>
          <input
            type="radio"
            name="schedule.type"
            value="cron"
            checked={f.scheduleType === 'cron'}
            onChange={() => model.set('scheduleType', 'cron')}
          />
          {trans.__('On a schedule')}
        </label>
        <label>
          <input
            type="radio"
            name="schedule.type"
            value="manual"
            checked={f.scheduleType === 'manual'}
            onChange={() => model.set('scheduleType', 'manual')}
          />
          {trans.__('Only when run by hand')}
        </label>
      </div>
      {f.scheduleType === 'cron' && (
        <>
          <label className="jp-smallfry-Field">
            <span className="jp-smallfry-FieldLabel">{trans.__('Preset')}</span>
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
              {SCHEDULE_PRESETS.map(p => (
                <option key={p.cron} value={p.cron}>
                  {trans.__(p.label)}
                </option>
              ))}
            </select>
          </label>
          <TextField
            model={model}
            trans={trans}
            label={trans.__('Cron')}
            field="schedule.cron"
            name="cron"
            placeholder="0 6 * * 1-5"
            help={trans.__(
              'minute hour day-of-month month day-of-week, or @hourly @daily @weekly @monthly @quarterly @yearly'
            )}
          />
          <TextField
            model={model}
            trans={trans}
            label={trans.__('Time zone')}
            field="schedule.timezone"
            name="timezone"
            list="jp-smallfry-timezones"
          />
          <datalist id="jp-smallfry-timezones">
            {props.zones.map(z => (
              <option key={z} value={z} />
            ))}
          </datalist>
          <TextField
            model={model}
            trans={trans}
            label={trans.__('Start date')}
            field="schedule.start_date"
            name="startDate"
            placeholder="2026-01-31"
            help={trans.__('YYYY-MM-DD or YYYY-MM-DDTHH:MM, in the time zone')}
          />
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
                      title={r.utc}
                    >
                      {r.local.replace('T', ' ')}
                    </li>
                  ))}
                </ol>
              </>
            )}
          </>
        )}
      </div>
    </fieldset>
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
              : trans.__('Schedule %1', model.notebook?.path ?? '')}
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
            <TextField
              model={model}
              trans={trans}
              label={trans.__('Id')}
              field="id"
              name="id"
              help={trans.__('lower-case letters, digits, - and _')}
            />
            <TextField
              model={model}
              trans={trans}
              label={trans.__('Title')}
              field="title"
              name="title"
            />
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
              trans={trans}
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
            <TextField
              model={model}
              trans={trans}
              label={trans.__('Retries')}
              field="retries.count"
              name="retries"
              type="number"
            />
            <TextField
              model={model}
              trans={trans}
              label={trans.__('Retry delay (minutes)')}
              field="retries.delay_seconds"
              name="retryDelayMinutes"
              type="number"
            />
            <TextField
              model={model}
              trans={trans}
              label={trans.__('Timeout (minutes)')}
              field="timeout_seconds"
              name="timeoutMinutes"
              type="number"
            />
            <TextField
              model={model}
              trans={trans}
              label={trans.__('Email on failure')}
              field="notifications.on_failure"
              name="emails"
              placeholder="alice@example.com, team@example.com"
            />
            <TextField
              model={model}
              trans={trans}
              label={trans.__('Run as role (ARN)')}
              field="run_as.role_arn"
              name="roleArn"
              placeholder="arn:aws:iam::123456789012:role/reports"
            />
            <TextField
              model={model}
              trans={trans}
              label={trans.__('Tags')}
              field="tags"
              name="tags"
              placeholder="sales, daily"
            />
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
    void this.model.refreshPreview();
    this.model.validate();
  }

  /** The form's model. */
  readonly model: ScheduleModel;

  /** Settles when the job is saved (the job) or the form is left (`null`). */
  get done(): Promise<IJob | null> {
    return this._done;
  }

  dispose(): void {
    this._resolve(null);
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
