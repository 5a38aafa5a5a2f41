/**
 * State of the "Schedule this notebook" dialog: the form, its problems on
 * their fields, pre-flight warnings and the next-runs preview. No DOM.
 *
 * The rules of a job spec live once, on the server: every edit is checked
 * there (`POST smallfry/jobs/check`, debounced), and the form shows the
 * answer — each problem next to its field, and the next runs as Airflow
 * fires them. The form itself only reads its own inputs (a number field
 * holds a number, a parameter's text is of its type).
 */
import { ServerConnection } from '@jupyterlab/services';
import {
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, IFieldError } from '../api';
import {
  API_VERSION,
  ICheckAnswer,
  IJob,
  IJobSpec,
  IScheduleAnswer,
  IUpcomingRun,
  JobsAPI,
  ParameterValue
} from './api';

/** A notification destination as the spec holds it. */
type Destination = NonNullable<
  NonNullable<IJobSpec['notifications']>['on_failure']
>[number];
import { describeCron } from './cron';
import {
  coerceValue,
  formatValue,
  IParametersCell,
  ParameterType,
  typeOf
} from './parameters';

/** Milliseconds without an edit before the form is checked on the server. */
export const CHECK_DELAY = 250;

/** The notebook being scheduled, as the dialog found it. */
export interface INotebookInfo {
  /** Contents path (`notebooks/x.ipynb`, or `S3:<root>/<key>` in the S3 drive). */
  path: string;
  /** What the server snapshots: the local path or an `s3://` URI. */
  source: string;
  /** The kernel saved in the notebook, if any. */
  kernel: string | null;
  /** Whether the open notebook has unsaved changes. */
  dirty: boolean;
  /** The parameters cell, or `null` when the notebook has none. */
  cell: IParametersCell | null;
}

/** When a notification is sent: the spec's key under `notifications`. */
export type NotifyEvent = 'on_failure' | 'on_success' | 'on_duration_over';

/** The notification events, in the form's order. */
export const NOTIFY_EVENTS: readonly NotifyEvent[] = [
  'on_failure',
  'on_success',
  'on_duration_over'
];

/**
 * One destination of a notification, as the form edits it. A webhook is
 * named by reference only (an Airflow connection or a Secrets Manager
 * secret holding its URL): the form has no URL field, by design.
 */
export interface IDestinationRow {
  /** An e-mail, or the kind of webhook. */
  type: 'email' | 'slack' | 'teams' | 'webhook';
  /** For a webhook: where its URL is kept. */
  via: 'connection' | 'secret';
  /** The e-mail address, the connection id or the secret's name or ARN. */
  target: string;
}

/** Another job of the same owner, as the "After" field offers it. */
export interface IOtherJob {
  id: string;
  title: string;
  /** Named by this job's `after` but not (or no longer) among the jobs. */
  missing: boolean;
}

/** The form's fields, as typed (text where the user types). */
export interface IScheduleForm {
  id: string;
  title: string;
  /** `after`: no times of its own; runs once the jobs in `after` succeed. */
  scheduleType: 'manual' | 'cron' | 'after';
  cron: string;
  timezone: string;
  /** `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`, wall time in `timezone`. */
  startDate: string;
  catchup: boolean;
  /** Empty: the server's default location. */
  outputTemplate: string;
  html: boolean;
  hideCode: boolean;
  retries: string;
  retryDelayMinutes: string;
  timeoutMinutes: string;
  /** The jobs this one runs after (used when `scheduleType` is `after`). */
  after: string[];
  /** Who is told of failures, successes and runs that take too long. */
  notify: { [E in NotifyEvent]: IDestinationRow[] };
  /** After how many minutes a run still going is told to `on_duration_over`. */
  durationMinutes: string;
  roleArn: string;
  /** Tags separated by commas or spaces. */
  tags: string;
  /** Re-snapshot the notebook when saving an edited job. */
  resnapshot: boolean;
}

/** One row of the parameter form. */
export interface IFormParameter {
  name: string;
  type: ParameterType;
  /** The text in the field. */
  text: string;
  /** The notebook's default, for a placeholder. */
  defaultText: string;
  comment?: string;
  /** False when the notebook's parameters cell does not assign it. */
  known: boolean;
}

/** A pre-flight warning. */
export interface IWarning {
  kind: 'unsaved' | 'no-kernel' | 'no-parameters' | 'unknown-parameter';
  message: string;
}

/** The next-runs preview. */
export interface IPreview {
  /** The schedule in words. */
  description: string;
  /** The next runs, as the server computed them. */
  runs: IUpcomingRun[];
  /**
   * What else Airflow will do: runs it starts at once because their time
   * has passed (a start date in the past), or "".
   */
  note: string;
  /** Why there are no runs to show (a problem with the schedule), or "". */
  error: string;
}

/** Form fields that problems are shown next to, as spec paths. */
export const FIELDS = [
  'id',
  'title',
  'notebook',
  'schedule.cron',
  'schedule.timezone',
  'schedule.start_date',
  'output.uri_template',
  'output.formats',
  'retries.count',
  'retries.delay_seconds',
  'timeout_seconds',
  'after',
  'notifications.on_failure',
  'notifications.on_success',
  'notifications.on_duration_over',
  'notifications.on_duration_over.seconds',
  'notifications.on_duration_over.to',
  'run_as.role_arn',
  'tags'
];

/**
 * The form field a spec path belongs to: `notifications.on_failure.0` is
 * shown next to `notifications.on_failure`, `parameters.x` next to `x`;
 * anything else is a problem with the job as a whole ("").
 */
export function fieldOf(path: string): string {
  if (path.startsWith('parameters.')) {
    return path.split('.').slice(0, 2).join('.');
  }
  let best = '';
  for (const f of FIELDS) {
    if ((path === f || path.startsWith(f + '.')) && f.length > best.length) {
      best = f;
    }
  }
  if (!best && path.startsWith('schedule')) {
    return 'schedule.cron';
  }
  return best;
}

/**
 * A failed save as problems by form field: each problem the server listed
 * goes next to its field (the first one per field, as in `validate()`), one
 * on no form field is shown for the job as a whole (`""`) with its spec path;
 * a refusal that lists none is shown whole, for the job as a whole.
 */
function serverProblems(error: unknown): { [field: string]: string } {
  const listed: IFieldError[] = error instanceof APIError ? error.errors : [];
  const problems = byField(listed);
  if (listed.length === 0) {
    problems[''] = error instanceof Error ? error.message : String(error);
  }
  return problems;
}

/** Problems by form field: the first one per field, as `fieldOf` maps them. */
function byField(listed: readonly IFieldError[]): { [field: string]: string } {
  const problems: { [field: string]: string } = {};
  for (const e of listed) {
    const field = fieldOf(e.field);
    if (!(field in problems)) {
      problems[field] =
        field || !e.field ? e.message : `${e.field}: ${e.message}`;
    }
  }
  return problems;
}

/** A job id made from a notebook's name: `Sales Report.ipynb` → `sales-report`. */
export function slugify(name: string): string {
  const base = name.replace(/^.*\//, '').replace(/\.ipynb$/i, '');
  const slug = base
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '')
    .slice(0, 63);
  return slug || 'notebook-job';
}

/** The browser's IANA time zone. */
export function browserTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function splitList(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map(s => s.trim())
    .filter(s => s.length > 0);
}

/** A spec's destination as a row of the form. */
function rowOf(dest: Destination): IDestinationRow {
  if (typeof dest === 'string') {
    return { type: 'email', via: 'connection', target: dest };
  }
  if (dest.type === 'email') {
    return { type: 'email', via: 'connection', target: dest.to };
  }
  return dest.secret !== undefined
    ? { type: dest.type, via: 'secret', target: dest.secret }
    : { type: dest.type, via: 'connection', target: dest.connection ?? '' };
}

/** A row of the form as the spec's destination (an address as a string). */
function destinationOf(row: IDestinationRow): Destination {
  const target = row.target.trim();
  if (row.type === 'email') {
    return target;
  }
  return row.via === 'secret'
    ? { type: row.type, secret: target }
    : { type: row.type, connection: target };
}

function todayIn(timeZone: string, now: number): string {
  try {
    // en-CA writes dates as YYYY-MM-DD.
    return new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit'
    }).format(now);
  } catch {
    return new Date(now).toISOString().slice(0, 10);
  }
}

/**
 * The dialog's model.
 */
export class ScheduleModel {
  constructor(options: ScheduleModel.IOptions) {
    this._serverSettings = options.serverSettings;
    this._checkDelay = options.checkDelay ?? CHECK_DELAY;
    this._sendClock = options.now !== undefined;
    this._notebook = options.notebook ?? null;
    this._existing = options.existing ?? null;
    this._existingEtag = options.existingEtag;
    this._now = options.now ?? (() => Date.now());
    this._trans = options.trans ?? nullTranslator.load('jupyterlab_smallfry');
    const timezone = options.timezone ?? browserTimezone();
    const spec = this._existing;
    const schedule = spec?.schedule;
    const notifications = spec?.notifications ?? {};
    const after = spec?.after ?? [];
    this._form = {
      id: spec?.id ?? slugify(this._notebook?.path ?? ''),
      title:
        spec?.title ??
        (this._notebook?.path ?? '')
          .replace(/^.*\//, '')
          .replace(/\.ipynb$/i, ''),
      scheduleType: after.length ? 'after' : (schedule?.type ?? 'cron'),
      cron: schedule?.cron ?? '0 6 * * 1-5',
      timezone: schedule?.timezone ?? timezone,
      startDate: schedule?.start_date ?? todayIn(timezone, this._now()),
      catchup: schedule?.catchup ?? false,
      outputTemplate: spec?.output?.uri_template ?? '',
      html: spec?.output?.formats?.includes('html') ?? false,
      hideCode: spec?.output?.hide_code ?? false,
      retries: String(spec?.retries?.count ?? 0),
      retryDelayMinutes: String((spec?.retries?.delay_seconds ?? 300) / 60),
      timeoutMinutes: String((spec?.timeout_seconds ?? 3600) / 60),
      after: [...after],
      notify: {
        on_failure: (notifications.on_failure ?? []).map(rowOf),
        on_success: (notifications.on_success ?? []).map(rowOf),
        on_duration_over: (notifications.on_duration_over?.to ?? []).map(rowOf)
      },
      durationMinutes: String(
        (notifications.on_duration_over?.seconds ?? 3600) / 60
      ),
      roleArn: spec?.run_as?.role_arn ?? '',
      tags: (spec?.tags ?? []).join(', '),
      resnapshot: false
    };
    this._parameters = this._initialParameters();
  }

  /** Emitted when the form, its problems or the preview change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Whether this edits an existing job (PUT) rather than creating one. */
  get isEdit(): boolean {
    return this._existing !== null;
  }

  /** The notebook, when the dialog was opened on one. */
  get notebook(): INotebookInfo | null {
    return this._notebook;
  }

  /**
   * The open notebook was saved or edited while the form is open: update
   * what the warnings say about it (unsaved changes, its kernel).
   */
  updateNotebookState(state: { dirty: boolean; kernel: string | null }): void {
    if (!this._notebook) {
      return;
    }
    this._notebook = { ...this._notebook, ...state };
    this._changed.emit();
  }

  /** The form as typed. */
  get form(): Readonly<IScheduleForm> {
    return this._form;
  }

  /** The parameter rows. */
  get parameters(): readonly IFormParameter[] {
    return this._parameters;
  }

  /**
   * Problems by form field (see {@link fieldOf}); "" for the job as a whole:
   * the form's own (a field that does not hold what it must), then the
   * server's answer to the last check or save.
   */
  get errors(): Readonly<{ [field: string]: string }> {
    return this._errors;
  }

  /** The preview of the schedule, from the server's last answer. */
  get preview(): IPreview {
    return this._preview;
  }

  /** Whether a check of the form as it is now is waiting for the server. */
  get checking(): boolean {
    return this._answered !== this._checkSeq || this._timer !== null;
  }

  /** Whether a save is running. */
  get saving(): boolean {
    return this._saving;
  }

  /** Pre-flight warnings: what would make the scheduled run fail or surprise. */
  get warnings(): IWarning[] {
    const trans = this._trans;
    const out: IWarning[] = [];
    const nb = this._notebook;
    // An edit keeps the job's snapshot unless asked to take a new one.
    const snapshotting = !this.isEdit || this._form.resnapshot;
    if (nb?.dirty && snapshotting) {
      out.push({
        kind: 'unsaved',
        message: trans.__(
          'The notebook has unsaved changes; the job runs the saved version. Save first.'
        )
      });
    }
    if (nb && !nb.kernel && snapshotting) {
      out.push({
        kind: 'no-kernel',
        message: trans.__(
          'The notebook has no kernel saved, so the run would not know which kernel to start. Pick a kernel and save.'
        )
      });
    }
    if (nb && nb.cell === null) {
      out.push({
        kind: 'no-parameters',
        message: trans.__(
          'The notebook has no cell tagged "parameters"; the job cannot pass it any values.'
        )
      });
    }
    for (const p of this._parameters) {
      if (!p.known && nb?.cell) {
        out.push({
          kind: 'unknown-parameter',
          message: trans.__(
            'The notebook\'s parameters cell does not assign "%1"; the value is injected but the notebook may not use it.',
            p.name
          )
        });
      }
    }
    return out;
  }

  /** Change a form field; the server checks the form once the edits pause. */
  set<K extends keyof IScheduleForm>(field: K, value: IScheduleForm[K]): void {
    if (this._form[field] === value) {
      return;
    }
    this._form = { ...this._form, [field]: value };
    this._edited();
  }

  /** Add an empty destination (an e-mail address to type) to `event`. */
  addDestination(event: NotifyEvent): void {
    this._setNotify(event, [
      ...this._form.notify[event],
      { type: 'email', via: 'connection', target: '' }
    ]);
  }

  /** Change the destination at `index` of `event`. */
  setDestination(
    event: NotifyEvent,
    index: number,
    change: Partial<IDestinationRow>
  ): void {
    this._setNotify(
      event,
      this._form.notify[event].map((row, i) =>
        i === index ? { ...row, ...change } : row
      )
    );
  }

  /** Drop the destination at `index` of `event`. */
  removeDestination(event: NotifyEvent, index: number): void {
    this._setNotify(
      event,
      this._form.notify[event].filter((_, i) => i !== index)
    );
  }

  /** Run after job `id` (`on`), or no longer. */
  setAfter(id: string, on: boolean): void {
    const rest = this._form.after.filter(a => a !== id);
    this.set('after', on ? [...rest, id] : rest);
  }

  /**
   * The other jobs this one may run after: the owner's jobs (listed by
   * {@link loadJobs}) but this one, and any its `after` names that are gone.
   */
  get otherJobs(): readonly IOtherJob[] {
    const own = new Set([this._form.id.trim(), this._existing?.id]);
    const listed = (this._jobs ?? []).filter(j => !own.has(j.id));
    const missing = this._form.after
      .filter(id => !listed.some(j => j.id === id))
      .map(id => ({ id, title: '', missing: true }));
    return [...listed, ...missing];
  }

  /**
   * Whether the owner's jobs were listed: `null` until {@link loadJobs}
   * answers, else `true`, or the reason they could not be.
   */
  get jobsListed(): true | string | null {
    return this._jobsListed;
  }

  /** List the owner's jobs for the "After" field. */
  async loadJobs(): Promise<void> {
    try {
      const { jobs } = await JobsAPI.list(this._serverSettings);
      this._jobs = jobs.map(j => ({
        id: j.spec.id,
        title: j.spec.title ?? '',
        missing: false
      }));
      this._jobsListed = true;
    } catch (err) {
      this._jobsListed = err instanceof Error ? err.message : String(err);
    }
    if (!this._disposed) {
      this._changed.emit();
    }
  }

  /** Change the text of a parameter. */
  setParameter(name: string, text: string): void {
    this._parameters = this._parameters.map(p =>
      p.name === name ? { ...p, text } : p
    );
    this._edited();
  }

  /** Drop a parameter the notebook does not know. */
  removeParameter(name: string): void {
    this._parameters = this._parameters.filter(p => p.name !== name);
    this._edited();
  }

  /** Stop checking: the form is gone. */
  dispose(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    this._disposed = true;
    Signal.clearData(this);
  }

  /**
   * The spec to send: `POST` on create, `PUT` on edit. Fields the form does
   * not show (description, image, …) are kept from the edited spec.
   *
   * @param lenient - leave out a parameter whose text is not of its type
   *   (to check the rest) instead of throwing
   * @throws Error when a parameter's text is not of its type (see `errors`).
   */
  toSpec(lenient = false): IJobSpec {
    const f = this._form;
    const base: IJobSpec = this._existing
      ? (JSON.parse(JSON.stringify(this._existing)) as IJobSpec)
      : { id: f.id, schedule: { type: 'manual' } };
    delete base.owner;
    const spec: IJobSpec = {
      ...base,
      apiVersion: API_VERSION,
      kind: 'NotebookJob',
      id: f.id.trim()
    };
    const title = f.title.trim();
    if (title) {
      spec.title = title;
    } else {
      delete spec.title;
    }
    if (!this._existing || f.resnapshot) {
      spec.notebook = { source: this._notebook?.source ?? '' };
      if (this._notebook?.kernel) {
        spec.notebook.kernel = this._notebook.kernel;
      }
    } else {
      delete spec.notebook;
    }
    const parameters: { [name: string]: ParameterValue } = {};
    for (const p of this._parameters) {
      try {
        parameters[p.name] = coerceValue(p.type, p.text);
      } catch (err) {
        if (!lenient) {
          throw err;
        }
      }
    }
    spec.parameters = parameters;
    spec.schedule =
      f.scheduleType !== 'cron'
        ? { type: 'manual' }
        : {
            type: 'cron',
            cron: f.cron.trim(),
            timezone: f.timezone.trim(),
            start_date: f.startDate.trim(),
            catchup: f.catchup
          };
    spec.retries = {
      count: numberOr(f.retries),
      delay_seconds: Math.round(numberOr(f.retryDelayMinutes) * 60)
    };
    spec.timeout_seconds = Math.round(numberOr(f.timeoutMinutes) * 60);
    spec.output = {
      ...(spec.output ?? {}),
      formats: f.html ? ['ipynb', 'html'] : ['ipynb'],
      hide_code: f.hideCode
    };
    if (f.outputTemplate.trim()) {
      spec.output.uri_template = f.outputTemplate.trim();
    } else {
      delete spec.output.uri_template;
    }
    if (f.scheduleType === 'after' && f.after.length) {
      spec.after = [...f.after];
    } else {
      delete spec.after;
    }
    // A row left empty is no destination (as an empty field was before);
    // the server's problem with a row shows on its event either way.
    const destinations = (event: NotifyEvent) =>
      f.notify[event].filter(r => r.target.trim()).map(destinationOf);
    const notifications = { ...(spec.notifications ?? {}) };
    for (const event of ['on_failure', 'on_success'] as const) {
      const to = destinations(event);
      if (to.length) {
        notifications[event] = to;
      } else {
        delete notifications[event];
      }
    }
    const over = destinations('on_duration_over');
    if (over.length) {
      notifications.on_duration_over = {
        seconds: Math.round(numberOr(f.durationMinutes) * 60),
        to: over
      };
    } else {
      delete notifications.on_duration_over;
    }
    if (Object.keys(notifications).length) {
      spec.notifications = notifications;
    } else {
      delete spec.notifications;
    }
    if (f.roleArn.trim()) {
      spec.run_as = { role_arn: f.roleArn.trim() };
    } else {
      delete spec.run_as;
    }
    const tags = splitList(f.tags);
    if (tags.length) {
      spec.tags = tags;
    } else {
      delete spec.tags;
    }
    return spec;
  }

  /**
   * Whether the form can be scheduled as far as is known now: none of its
   * own problems and none in the server's answer for it. Sets `errors`.
   */
  validate(): boolean {
    const errors = this._ownProblems();
    const server = byField(this._serverErrors);
    for (const [field, message] of Object.entries(server)) {
      if (!(field in errors)) {
        errors[field] = message;
      }
    }
    if (this._unreachable && !('' in errors)) {
      errors[''] = this._unreachable;
    }
    this._errors = errors;
    return Object.keys(errors).length === 0;
  }

  /**
   * Ask the server about the form as it is now, at once; the answer lands
   * in `errors` and `preview` unless the form changed meanwhile (then the
   * newer check's answer does). Resolves with whether the server found the
   * form fit to schedule (`false` when it could not be asked).
   */
  async check(): Promise<boolean> {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    const seq = ++this._checkSeq;
    const spec = this._draft();
    let answer: ICheckAnswer | null = null;
    let refusal: unknown = null;
    try {
      answer = await JobsAPI.check(
        this._serverSettings,
        spec,
        this._sendClock ? new Date(this._now()).toISOString() : undefined
      );
    } catch (err) {
      refusal = err;
    }
    if (seq !== this._checkSeq || this._disposed) {
      // An older answer: the form changed since, and a newer check is out.
      return false;
    }
    this._answered = seq;
    if (answer) {
      this._serverErrors = answer.errors;
      this._unreachable = '';
    } else if (refusal instanceof APIError) {
      // A refusal of the request itself (too large, not a spec): its problems.
      this._serverErrors = refusal.errors.length
        ? refusal.errors
        : [{ field: '', message: refusal.message }];
      this._unreachable = '';
    } else {
      this._serverErrors = [];
      this._unreachable = this._trans.__(
        'The server cannot be reached to check this job (%1). It cannot be scheduled until the server answers.',
        refusal instanceof Error ? refusal.message : String(refusal)
      );
    }
    const fine = this.validate();
    await this._showPreview(answer, seq);
    return fine && !!answer && answer.errors.length === 0;
  }

  /**
   * Schedule (POST) or save (PUT) the job. Refused while the form or the
   * server's check finds a problem, or the server cannot be asked; problems
   * of the save land on their fields. Returns the job, or `null`.
   */
  async submit(): Promise<IJob | null> {
    if (Object.keys(this._ownProblems()).length > 0) {
      this.validate();
      this._changed.emit();
      return null;
    }
    // The answer for the form as it is says no: refuse without asking again.
    if (!this.checking && !this.validate()) {
      this._changed.emit();
      return null;
    }
    this._saving = true;
    this._changed.emit();
    try {
      if (!(await this.check())) {
        return null;
      }
      const spec = this.toSpec();
      return this._existing
        ? await JobsAPI.update(
            this._serverSettings,
            this._existing.id,
            spec,
            this._existingEtag
          )
        : await JobsAPI.create(this._serverSettings, spec);
    } catch (err) {
      this._errors = serverProblems(err);
      return null;
    } finally {
      this._saving = false;
      this._changed.emit();
    }
  }

  /** An edit: the old answer no longer holds; check again once edits pause. */
  private _edited(): void {
    // Answers to checks already out are for the form as it was.
    ++this._checkSeq;
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.check();
    }, this._checkDelay);
    this.validate();
    this._changed.emit();
  }

  /** The form's own problems: fields that do not hold what they must. */
  private _ownProblems(): { [field: string]: string } {
    const errors: { [field: string]: string } = {};
    const add = (path: string, message: string) => {
      const field = fieldOf(path);
      if (!(field in errors)) {
        errors[field] = message;
      }
    };
    for (const p of this._parameters) {
      try {
        coerceValue(p.type, p.text);
      } catch (err) {
        add(`parameters.${p.name}`, (err as Error).message);
      }
    }
    const numbers: [keyof IScheduleForm, string][] = [
      ['retries', 'retries.count'],
      ['retryDelayMinutes', 'retries.delay_seconds'],
      ['timeoutMinutes', 'timeout_seconds']
    ];
    if (this._form.notify.on_duration_over.some(r => r.target.trim())) {
      numbers.push([
        'durationMinutes',
        'notifications.on_duration_over.seconds'
      ]);
    }
    for (const [key, path] of numbers) {
      const text = String(this._form[key]).trim();
      if (text === '' || !Number.isFinite(Number(text))) {
        add(path, this._trans.__('must be a number'));
      }
    }
    if (this._form.scheduleType === 'after' && !this._form.after.length) {
      add('after', this._trans.__('pick the jobs this one runs after'));
    }
    if (!this.isEdit && !this._notebook?.source) {
      add('notebook', this._trans.__('no notebook to schedule'));
    }
    return errors;
  }

  /** The spec to check: what would be sent, leaving out unreadable parameters. */
  private _draft(): IJobSpec {
    const spec = this.toSpec(true);
    if (spec.notebook && !spec.notebook.source) {
      // No notebook is a problem of the form's own; let the server judge the rest.
      delete spec.notebook;
    }
    return spec;
  }

  /** The words and runs of the schedule the server answered for. */
  private async _showPreview(
    answer: ICheckAnswer | null,
    seq: number
  ): Promise<void> {
    const trans = this._trans;
    const f = this._form;
    let preview: IPreview;
    if (f.scheduleType === 'manual') {
      preview = {
        description: trans.__('Only when you click Run now'),
        runs: [],
        note: '',
        error: ''
      };
    } else if (f.scheduleType === 'after') {
      preview = {
        description: !f.after.length
          ? ''
          : f.after.length === 1
            ? trans.__('Runs after %1 succeeds', f.after[0])
            : trans.__(
                'Runs after %1 have all succeeded since its last run',
                f.after.join(', ')
              ),
        runs: [],
        note: '',
        error: ''
      };
    } else if (answer?.schedule) {
      const schedule = answer.schedule;
      preview = {
        description: await describeCron(schedule.cron),
        runs: schedule.next_runs,
        note: this._atOnceNote(schedule.at_once),
        error: ''
      };
    } else {
      preview = {
        description: '',
        runs: [],
        note: '',
        error: answer
          ? trans.__('The next runs show once the schedule is valid.')
          : ''
      };
    }
    if (seq === this._checkSeq && !this._disposed) {
      this._preview = preview;
      this._changed.emit();
    }
  }

  private _atOnceNote(atOnce: IScheduleAnswer['at_once']): string {
    // An edited job has runs already: Airflow goes on from its last one.
    if (!atOnce || this.isEdit) {
      return '';
    }
    const first = atOnce.first.local.replace('T', ' ');
    if (atOnce.count === 1) {
      return this._trans.__(
        'The start date has passed: Airflow runs the one due at %1 as soon as it picks up the job.',
        first
      );
    }
    return this._trans.__(
      'Catch-up is on: Airflow runs the %1%2 runs due since the start date (the first at %3) as soon as it picks up the job.',
      atOnce.capped ? this._trans.__('more than ') : '',
      String(atOnce.count),
      first
    );
  }

  private _initialParameters(): IFormParameter[] {
    const rows: IFormParameter[] = [];
    const values = this._existing?.parameters ?? {};
    for (const p of this._notebook?.cell?.parameters ?? []) {
      const value = p.name in values ? values[p.name] : p.value;
      // A None default takes whatever type the job gave it.
      const type = p.type === 'None' && value !== null ? typeOf(value) : p.type;
      rows.push({
        name: p.name,
        type,
        text: formatValue(type, value),
        defaultText: formatValue(p.type, p.value),
        comment: p.comment,
        known: true
      });
    }
    for (const [name, value] of Object.entries(values)) {
      if (!rows.some(r => r.name === name)) {
        const type = typeOf(value);
        rows.push({
          name,
          type,
          text: formatValue(type, value),
          defaultText: '',
          known: this._notebook === null
        });
      }
    }
    return rows;
  }

  private _serverSettings: ServerConnection.ISettings;
  private _checkDelay: number;
  private _sendClock: boolean;
  private _checkSeq = 0;
  private _answered = -1;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _serverErrors: readonly IFieldError[] = [];
  private _unreachable = '';
  private _disposed = false;
  private _notebook: INotebookInfo | null;
  private _existing: IJobSpec | null;
  private _existingEtag: string | undefined;
  private _now: () => number;
  private _trans: TranslationBundle;
  private _form: IScheduleForm;
  private _parameters: IFormParameter[];
  private _errors: { [field: string]: string } = {};
  private _preview: IPreview = {
    description: '',
    runs: [],
    note: '',
    error: ''
  };
  private _saving = false;
  private _jobs: IOtherJob[] | null = null;
  private _jobsListed: true | string | null = null;
  private _changed = new Signal<this, void>(this);

  private _setNotify(event: NotifyEvent, rows: IDestinationRow[]): void {
    this.set('notify', { ...this._form.notify, [event]: rows });
  }
}

/** Options of {@link ScheduleModel}. */
export namespace ScheduleModel {
  export interface IOptions {
    serverSettings: ServerConnection.ISettings;
    /** Milliseconds without an edit before the server checks the form. */
    checkDelay?: number;
    /** The notebook to schedule (or that the edited job came from). */
    notebook?: INotebookInfo | null;
    /** The job to edit. */
    existing?: IJobSpec | null;
    /** The version of that job the user saw (its `etag`). */
    existingEtag?: string;
    /** Default time zone (the browser's). */
    timezone?: string;
    /**
     * Clock, for tests: the default start date's day and, when given, the
     * instant the server previews the runs from (else the server's clock).
     */
    now?: () => number;
    trans?: TranslationBundle;
  }
}

function numberOr(text: string): number {
  const v = Number(text.trim());
  return Number.isFinite(v) ? v : 0;
}
