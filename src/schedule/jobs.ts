/**
 * State of the Jobs panel: the user's jobs with their recent runs, the
 * schedule in words and the next run, each job's run history (filter,
 * pages), the progress of runs under way, the runs checked for a
 * comparison, and the actions on runs (re-run, other parameters,
 * reproduce). Two `Poll`s stand by while the panel is hidden: the listing
 * (slow), and, only while a run is queued or running, each such run read by
 * key (`GET …/runs/<run_id>`, no listing) every couple of seconds. No DOM.
 */
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import {
  IJob,
  IRunDetail,
  IRunInputs,
  IRunManifest,
  IRunStarted,
  JobsAPI,
  ParameterValue,
  RunRequest
} from './api';
import { describeCron } from './cron';
import { compareRequest, ICompareRequest, isActive, RunFilter } from './runs';

/** What the panel shows about a job's schedule. */
export interface IScheduleSummary {
  /** "At 06:00, Monday through Friday", or "" for a manual job. */
  description: string;
  /** Next run (ISO, UTC) or `null`: manual, paused, or not computable. */
  nextRun: string | null;
}

/**
 * The runs of a job the panel shows: its newest few from the listing
 * (collapsed), or pages of its history read from the run index (expanded,
 * and whenever a status filter is set).
 */
export interface IRunHistory {
  filter: RunFilter;
  expanded: boolean;
  /** The pages read so far (expanded), newest first. */
  runs: IRunManifest[];
  /** Cursor of the next page; `null`: no more. */
  next: string | null;
  loading: boolean;
  error: string;
}

/** Runs a job shows until its history is expanded (as the listing has them). */
export const NEWEST_RUNS = 3;

const COLLAPSED: IRunHistory = Object.freeze({
  filter: '',
  expanded: false,
  runs: [],
  next: null,
  loading: false,
  error: ''
}) as IRunHistory;

/**
 * The panel's model.
 */
export class JobsModel implements IDisposable {
  constructor(options: JobsModel.IOptions) {
    this._serverSettings = options.serverSettings;
    this._interval = options.refreshInterval ?? 30000;
    this._progressInterval = options.progressInterval ?? 2000;
    this._pageSize = options.pageSize ?? 20;
  }

  /** Emitted after every refresh and action. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The user's jobs, as last listed. */
  get jobs(): readonly IJob[] {
    return this._jobs;
  }

  /** Where run outputs go by default (`runs_uri` of the server). */
  get runsUri(): string {
    return this._runsUri;
  }

  /** The last failure (listing or action), or "". */
  get error(): string {
    return this._error;
  }

  /** Whether the first listing arrived. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** Job ids with an action in flight. */
  get busy(): ReadonlySet<string> {
    return this._busy;
  }

  /** Whether a run the panel shows is queued or running. */
  get hasActiveRuns(): boolean {
    return this._active().length > 0;
  }

  /** Words and next run of a job's schedule. */
  summary(id: string): IScheduleSummary {
    return this._summaries.get(id) ?? { description: '', nextRun: null };
  }

  /** A job's history state (collapsed with no filter until asked). */
  history(id: string): Readonly<IRunHistory> {
    return this._histories.get(id) ?? COLLAPSED;
  }

  /** The runs of a job the panel shows, newest first. */
  runsOf(id: string): readonly IRunManifest[] {
    const history = this.history(id);
    if (history.expanded) {
      return history.runs;
    }
    const runs = this._jobs.find(j => j.spec.id === id)?.runs ?? [];
    // One job read alone comes with more of its runs than the listing's.
    return runs.slice(0, NEWEST_RUNS);
  }

  /**
   * The last progress read of a run under way (or of one that just ended),
   * `undefined` before the first read.
   */
  progress(id: string, runId: string): IRunDetail | undefined {
    return this._details.get(key(id, runId));
  }

  /** Whether the view is visible: a hidden panel does not poll. */
  set visible(value: boolean) {
    this._visible = value;
    if (value && this._poll) {
      void this._poll.refresh();
    }
    if (value && this._progressPoll && this.hasActiveRuns) {
      void this._progressPoll.refresh();
    }
  }

  /** Start polling (the view calls this once it is attached). */
  start(): void {
    if (this._poll || this._disposed) {
      return;
    }
    this._poll = new Poll({
      factory: () => this.refresh(),
      frequency: { interval: this._interval, backoff: true, max: 300000 },
      standby: () => !this._visible || 'when-hidden',
      name: 'jupyterlab-smallfry:jobs'
    });
    this._progressPoll = new Poll({
      factory: () => this._followRuns(),
      frequency: { interval: this._progressInterval, backoff: false },
      // Nothing to read while no run is under way: no request at all.
      standby: () => !this._visible || !this.hasActiveRuns || 'when-hidden',
      name: 'jupyterlab-smallfry:runs-progress'
    });
  }

  /** List the jobs now. */
  async refresh(): Promise<void> {
    try {
      const list = await JobsAPI.list(this._serverSettings);
      this._jobs = list.jobs;
      this._runsUri = list.runs_uri;
      this._error = '';
      this._loaded = true;
      for (const job of this._jobs) {
        this._mergeNewest(job);
      }
      await this._summarise();
    } catch (err) {
      this._error = (err as Error).message ?? String(err);
      this._changed.emit();
      throw err;
    }
    this._followSoon();
    this._changed.emit();
  }

  /** Pause (`true`) or resume (`false`) a job's schedule. */
  setPaused(id: string, paused: boolean): Promise<void> {
    return this._act(id, async () => {
      const seen = this._jobs.find(j => j.spec.id === id)?.etag;
      this._replace(
        await JobsAPI.setPaused(this._serverSettings, id, paused, seen)
      );
    });
  }

  /** Run a job once now; the new run shows in its history. */
  runNow(id: string): Promise<IRunStarted | null> {
    return this._start(id);
  }

  /** Run a job again with the parameters a past run had. */
  rerun(id: string, runId: string): Promise<IRunStarted | null> {
    return this._start(id, { rerun: runId });
  }

  /** Run a job once with these parameters (the spec's stay as they are). */
  runWithParameters(
    id: string,
    parameters: { [name: string]: ParameterValue }
  ): Promise<IRunStarted | null> {
    return this._start(id, { parameters });
  }

  /**
   * Run a past run's notebook snapshot again with its parameters; the
   * answer names the inputs that changed since.
   */
  reproduce(id: string, runId: string): Promise<IRunStarted | null> {
    return this._start(id, { reproduce: runId });
  }

  /** The objects a run read, each as it is now (changed or gone). */
  inputs(id: string, runId: string): Promise<IRunInputs> {
    return JobsAPI.inputs(this._serverSettings, id, runId);
  }

  /** Delete a job (the caller asks the user first). */
  remove(id: string): Promise<void> {
    return this._act(id, async () => {
      await JobsAPI.remove(this._serverSettings, id);
      this._jobs = this._jobs.filter(j => j.spec.id !== id);
      this._summaries.delete(id);
      this._histories.delete(id);
      if (this._checkedJob === id) {
        this._checked = [];
      }
    });
  }

  /**
   * Show only the runs of a status (`''`: every run): the first page of
   * them from the server.
   */
  setFilter(id: string, filter: RunFilter): Promise<void> {
    return this._loadPage(id, { filter, expanded: true }, false);
  }

  /**
   * Show more runs of a job: its first page of history when only the
   * newest few are shown, else the next page.
   */
  showMore(id: string): Promise<void> {
    const history = this.history(id);
    return this._loadPage(id, { expanded: true }, history.expanded);
  }

  /** Back to the newest few runs of the listing, without a filter. */
  collapse(id: string): void {
    this._histories.delete(id);
    this._changed.emit();
  }

  /** The runs checked for a comparison, oldest check first. */
  checked(id: string): readonly string[] {
    return this._checkedJob === id ? this._checked : [];
  }

  /**
   * Check or uncheck a run for a comparison. Runs of one job are compared:
   * checking a run of another job starts over; a third check replaces the
   * oldest one, so two stay checked.
   */
  toggleChecked(id: string, runId: string): void {
    if (this._checkedJob !== id) {
      this._checkedJob = id;
      this._checked = [];
    }
    this._checked = this._checked.includes(runId)
      ? this._checked.filter(r => r !== runId)
      : [...this._checked, runId].slice(-2);
    this._changed.emit();
  }

  /** What the checked runs of a job compare, or `null`. */
  compareRequest(id: string): ICompareRequest | null {
    const runs = this.runsOf(id);
    const checked = this.checked(id)
      .map(runId => runs.find(r => r.run_id === runId))
      .filter((r): r is IRunManifest => !!r);
    return compareRequest(id, checked);
  }

  /** Whether this model is disposed. */
  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Stop polling and disconnect. */
  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._poll?.dispose();
    this._progressPoll?.dispose();
    Signal.clearData(this);
  }

  private async _start(
    id: string,
    request?: RunRequest
  ): Promise<IRunStarted | null> {
    let started: IRunStarted | null = null;
    await this._act(id, async () => {
      started = await JobsAPI.runNow(this._serverSettings, id, request);
      this._replace(await JobsAPI.get(this._serverSettings, id));
    });
    return started;
  }

  private async _act(id: string, action: () => Promise<void>): Promise<void> {
    this._busy.add(id);
    this._changed.emit();
    try {
      await action();
      this._error = '';
      await this._summarise();
      this._followSoon();
    } catch (err) {
      this._error = (err as Error).message ?? String(err);
      throw err;
    } finally {
      this._busy.delete(id);
      this._changed.emit();
    }
  }

  private async _loadPage(
    id: string,
    change: Partial<IRunHistory>,
    append: boolean
  ): Promise<void> {
    const before = { ...this.history(id), ...change };
    const history: IRunHistory = { ...before, loading: true, error: '' };
    this._histories.set(id, history);
    this._changed.emit();
    try {
      const page = await JobsAPI.runs(this._serverSettings, id, {
        limit: this._pageSize,
        status: history.filter || undefined,
        before: append ? history.next : undefined
      });
      if (this._histories.get(id) !== history) {
        return; // Another filter or a collapse came meanwhile.
      }
      const seen = new Set(append ? history.runs.map(r => r.run_id) : []);
      this._histories.set(id, {
        ...history,
        loading: false,
        runs: [
          ...(append ? history.runs : []),
          ...page.runs.filter(r => !seen.has(r.run_id))
        ],
        next: page.next
      });
      this._followSoon();
    } catch (err) {
      if (this._histories.get(id) === history) {
        this._histories.set(id, {
          ...history,
          loading: false,
          error: (err as Error).message ?? String(err)
        });
      }
    }
    this._changed.emit();
  }

  /**
   * Runs the listing knows and an expanded history does not yet (started
   * since it was read) go on top of it, when the filter lets them.
   */
  private _mergeNewest(job: IJob): void {
    const history = this._histories.get(job.spec.id);
    if (!history?.expanded) {
      return;
    }
    const shown = new Map(history.runs.map(r => [r.run_id, r]));
    const fits = (run: IRunManifest) =>
      !history.filter ||
      run.status === history.filter ||
      (history.filter === 'running' && isActive(run));
    const fresh = job.runs.filter(r => !shown.has(r.run_id) && fits(r));
    const updated = history.runs.map(r => {
      const listed = job.runs.find(l => l.run_id === r.run_id);
      return listed ?? r;
    });
    this._histories.set(job.spec.id, {
      ...history,
      runs: [...fresh, ...updated]
    });
  }

  /** Runs under way that the panel shows, once each. */
  private _active(): { id: string; run: IRunManifest }[] {
    const found = new Map<string, { id: string; run: IRunManifest }>();
    for (const job of this._jobs) {
      const id = job.spec.id;
      const history = this._histories.get(id);
      for (const run of [...job.runs, ...(history?.runs ?? [])]) {
        if (isActive(run)) {
          found.set(key(id, run.run_id), { id, run });
        }
      }
    }
    return [...found.values()];
  }

  /** Read each run under way by key; a run that ended refreshes its job. */
  private async _followRuns(): Promise<void> {
    const ended = new Set<string>();
    await Promise.all(
      this._active().map(async ({ id, run }) => {
        let detail: IRunDetail;
        try {
          detail = await JobsAPI.run(this._serverSettings, id, run.run_id);
        } catch {
          return; // The next tick tries again; the listing still shows it.
        }
        this._details.set(key(id, run.run_id), detail);
        this._patchRun(id, detail.run);
        if (!isActive(detail.run)) {
          ended.add(id);
        }
      })
    );
    this._changed.emit();
    // The job's newest runs and its next run may have changed with the end.
    await Promise.all(
      [...ended].map(async id => {
        try {
          this._replace(await JobsAPI.get(this._serverSettings, id));
        } catch {
          return;
        }
      })
    );
    if (ended.size) {
      await this._summarise();
      this._changed.emit();
    }
  }

  /** Put a fresher manifest of a run wherever the panel shows it. */
  private _patchRun(id: string, run: IRunManifest): void {
    const swap = (runs: IRunManifest[]) =>
      runs.map(r => (r.run_id === run.run_id ? run : r));
    const job = this._jobs.find(j => j.spec.id === id);
    if (job) {
      this._replace({ ...job, runs: swap(job.runs) });
    }
    const history = this._histories.get(id);
    if (history) {
      this._histories.set(id, { ...history, runs: swap(history.runs) });
    }
  }

  /** Read the runs under way at once (a run was started or listed). */
  private _followSoon(): void {
    const poll = this._progressPoll;
    if (poll && !poll.isDisposed && this._visible && this.hasActiveRuns) {
      void poll.refresh();
    }
  }

  private _replace(job: IJob): void {
    const i = this._jobs.findIndex(j => j.spec.id === job.spec.id);
    this._jobs =
      i < 0
        ? [...this._jobs, job]
        : [...this._jobs.slice(0, i), job, ...this._jobs.slice(i + 1)];
    this._mergeNewest(job);
  }

  private async _summarise(): Promise<void> {
    const summaries = new Map<string, IScheduleSummary>();
    await Promise.all(
      this._jobs.map(async job => {
        const s = job.spec.schedule;
        const summary: IScheduleSummary = { description: '', nextRun: null };
        if (s.type === 'cron' && s.cron) {
          summary.description = await describeCron(s.cron);
          // The server computes it as Airflow will; a paused job has none.
          summary.nextRun = job.spec.paused ? null : (job.next_run ?? null);
        }
        summaries.set(job.spec.id, summary);
      })
    );
    this._summaries = summaries;
  }

  private _serverSettings: ServerConnection.ISettings;
  private _interval: number;
  private _progressInterval: number;
  private _pageSize: number;
  private _poll: Poll | null = null;
  private _progressPoll: Poll | null = null;
  private _visible = false;
  private _jobs: IJob[] = [];
  private _runsUri = '';
  private _error = '';
  private _loaded = false;
  private _busy = new Set<string>();
  private _summaries = new Map<string, IScheduleSummary>();
  private _histories = new Map<string, IRunHistory>();
  private _details = new Map<string, IRunDetail>();
  private _checkedJob = '';
  private _checked: string[] = [];
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

function key(id: string, runId: string): string {
  return `${id}\n${runId}`;
}

/** Options of {@link JobsModel}. */
export namespace JobsModel {
  export interface IOptions {
    serverSettings: ServerConnection.ISettings;
    /** Milliseconds between listings while visible (default 30 s). */
    refreshInterval?: number;
    /**
     * Milliseconds between two reads of each run under way (default 2 s);
     * only while the panel is visible and a run is queued or running.
     */
    progressInterval?: number;
    /** Runs per page of a job's history (default 20). */
    pageSize?: number;
  }
}
