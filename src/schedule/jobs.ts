/**
 * State of the Jobs panel: the user's jobs with their recent runs, the
 * schedule in words and the next run, kept fresh by a `Poll` that stands by
 * while the panel is hidden. No DOM.
 */
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { IJob, IRunStarted, JobsAPI } from './api';
import { describeCron } from './cron';

/** What the panel shows about a job's schedule. */
export interface IScheduleSummary {
  /** "At 06:00, Monday through Friday", or "" for a manual job. */
  description: string;
  /** Next run (ISO, UTC) or `null`: manual, paused, or not computable. */
  nextRun: string | null;
}

/**
 * The panel's model.
 */
export class JobsModel implements IDisposable {
  constructor(options: JobsModel.IOptions) {
    this._serverSettings = options.serverSettings;
    this._interval = options.refreshInterval ?? 30000;
    this._activeInterval = Math.min(
      options.activeRefreshInterval ?? 3000,
      this._interval
    );
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

  /** Whether a run of any job is queued or running (the panel then polls faster). */
  get hasActiveRuns(): boolean {
    return this._jobs.some(job =>
      job.runs.some(run => run.status === 'queued' || run.status === 'running')
    );
  }

  /** Words and next run of a job's schedule. */
  summary(id: string): IScheduleSummary {
    return this._summaries.get(id) ?? { description: '', nextRun: null };
  }

  /** Whether the view is visible: a hidden panel does not poll. */
  set visible(value: boolean) {
    this._visible = value;
    if (value && this._poll) {
      void this._poll.refresh();
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
  }

  /** List the jobs now. */
  async refresh(): Promise<void> {
    try {
      const list = await JobsAPI.list(this._serverSettings);
      this._jobs = list.jobs;
      this._runsUri = list.runs_uri;
      this._error = '';
      this._loaded = true;
      await this._summarise();
    } catch (err) {
      this._error = (err as Error).message ?? String(err);
      this._changed.emit();
      throw err;
    }
    this._pace();
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
  async runNow(id: string): Promise<IRunStarted | null> {
    let started: IRunStarted | null = null;
    await this._act(id, async () => {
      started = await JobsAPI.runNow(this._serverSettings, id);
      const job = await JobsAPI.get(this._serverSettings, id);
      this._replace(job);
    });
    return started;
  }

  /** Delete a job (the caller asks the user first). */
  remove(id: string): Promise<void> {
    return this._act(id, async () => {
      await JobsAPI.remove(this._serverSettings, id);
      this._jobs = this._jobs.filter(j => j.spec.id !== id);
      this._summaries.delete(id);
    });
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
    Signal.clearData(this);
  }

  private async _act(id: string, action: () => Promise<void>): Promise<void> {
    this._busy.add(id);
    this._changed.emit();
    try {
      await action();
      this._error = '';
      await this._summarise();
      this._pace();
    } catch (err) {
      this._error = (err as Error).message ?? String(err);
      throw err;
    } finally {
      this._busy.delete(id);
      this._changed.emit();
    }
  }

  /**
   * Poll every few seconds while a run is queued or running, so its outcome
   * shows soon after it ends, and at the normal pace otherwise.
   */
  private _pace(): void {
    const poll = this._poll;
    if (!poll || poll.isDisposed) {
      return;
    }
    const interval = this.hasActiveRuns ? this._activeInterval : this._interval;
    const previous = poll.frequency.interval;
    if (interval === previous) {
      return;
    }
    poll.frequency = { ...poll.frequency, interval };
    if (interval < previous) {
      // The tick already waiting was set at the slow pace: bring it forward.
      void poll.schedule({ interval, phase: 'resolved' });
    }
  }

  private _replace(job: IJob): void {
    const i = this._jobs.findIndex(j => j.spec.id === job.spec.id);
    this._jobs =
      i < 0
        ? [...this._jobs, job]
        : [...this._jobs.slice(0, i), job, ...this._jobs.slice(i + 1)];
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
  private _activeInterval: number;
  private _poll: Poll | null = null;
  private _visible = false;
  private _jobs: IJob[] = [];
  private _runsUri = '';
  private _error = '';
  private _loaded = false;
  private _busy = new Set<string>();
  private _summaries = new Map<string, IScheduleSummary>();
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

/** Options of {@link JobsModel}. */
export namespace JobsModel {
  export interface IOptions {
    serverSettings: ServerConnection.ISettings;
    /** Milliseconds between listings while visible (default 30 s). */
    refreshInterval?: number;
    /**
     * Milliseconds between listings while a run is queued or running
     * (default 3 s, never more than `refreshInterval`).
     */
    activeRefreshInterval?: number;
  }
}
