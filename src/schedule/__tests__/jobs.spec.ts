/**
 * The Jobs panel's model through its signals, and the form's path helpers.
 *
 * Only the REST module (`src/api.ts`, its `requestAPI`) is replaced here, by
 * a jest mock that answers like `jobs/handlers.py` (timing a run's polling
 * needs a server that answers on cue); cronstrue is the real code. The form's
 * model is tested against the real server in `model.spec.ts`.
 */
import { ServerConnection } from '@jupyterlab/services';
import { sleep } from '@jupyterlab/testing';

jest.mock('../../api', () => ({
  ...jest.requireActual('../../api'),
  requestAPI: jest.fn()
}));

import { requestAPI } from '../../api';
import type { IJob, IJobSpec, IRunManifest } from '../api';
import { describeCron } from '../cron';
import { JobsModel } from '../jobs';
import { fieldOf, slugify } from '../model';

const requestMock = requestAPI as jest.MockedFunction<typeof requestAPI>;
const settings = ServerConnection.makeSettings({ baseUrl: 'http://x/' });

beforeEach(() => {
  requestMock.mockReset();
});

function job(
  spec: Partial<IJobSpec>,
  runs: IRunManifest[] = [],
  nextRun: string | null = null
): IJob {
  return {
    spec: {
      apiVersion: 'smallfry/v1',
      kind: 'NotebookJob',
      id: 'sales',
      owner: 'alice',
      schedule: {
        type: 'cron',
        cron: '0 6 * * 1-5',
        timezone: 'Europe/Amsterdam',
        start_date: '2026-11-01'
      },
      ...spec
    } as IJobSpec,
    runs,
    dag_id: 'smallfry__alice__sales',
    next_run: nextRun
  };
}

describe('describeCron', () => {
  it('puts a schedule in words, presets included', async () => {
    expect(await describeCron('0 6 * * 1-5')).toBe(
      'At 06:00, Monday through Friday'
    );
    // cronstrue does not know @quarterly; the contract says what it stands for.
    expect(await describeCron(' @quarterly ')).toBe(
      await describeCron('0 0 1 */3 *')
    );
    expect(await describeCron('@quarterly')).toMatch(/every 3 months/);
  });

  it('has no words for what it cannot read (the server says why)', async () => {
    expect(await describeCron('every day')).toBe('');
  });
});

describe('helpers', () => {
  it('maps spec paths to form fields', () => {
    expect(fieldOf('notifications.on_failure.0')).toBe(
      'notifications.on_failure'
    );
    expect(fieldOf('tags.3')).toBe('tags');
    expect(fieldOf('parameters.min-total')).toBe('parameters.min-total');
    expect(fieldOf('priority')).toBe('');
    expect(slugify('S3:demo/Sales Report (v2).ipynb')).toBe('sales-report-v2');
  });
});

describe('JobsModel', () => {
  it('lists jobs with words and next run, and acts on them', async () => {
    const run = {
      job_id: 'sales',
      owner: 'alice',
      run_id: 'r1',
      status: 'success',
      output_uri: 's3://smallfry-demo/runs/alice/sales/r1/output.ipynb',
      start: '2026-11-24T05:00:00Z',
      end: '2026-11-24T05:01:30Z',
      duration_seconds: 90,
      error: null
    };
    requestMock.mockResolvedValueOnce({
      jobs: [
        job({}, [run], '2026-11-25T05:00:00Z'),
        job({ id: 'adhoc', schedule: { type: 'manual' } })
      ],
      jobs_uri: '/x/jobs',
      runs_uri: 's3://smallfry-demo/runs/'
    });
    const model = new JobsModel({ serverSettings: settings });
    const emitted = jest.fn();
    model.changed.connect(emitted);
    await model.refresh();
    expect(emitted).toHaveBeenCalled();
    expect(model.jobs.map(j => j.spec.id)).toEqual(['sales', 'adhoc']);
    expect(model.summary('sales')).toEqual({
      description: 'At 06:00, Monday through Friday',
      nextRun: '2026-11-25T05:00:00Z'
    });
    expect(model.summary('adhoc').nextRun).toBeNull();

    requestMock.mockResolvedValueOnce(job({ paused: true }, [run]));
    await model.setPaused('sales', true);
    expect(requestMock).toHaveBeenLastCalledWith(
      'jobs/sales/pause',
      settings,
      expect.objectContaining({ method: 'POST' })
    );
    expect(model.jobs[0].spec.paused).toBe(true);
    expect(model.summary('sales').nextRun).toBeNull();

    requestMock
      .mockResolvedValueOnce({ run_id: 'r2', run_uri: 'u', output_uri: 'o' })
      .mockResolvedValueOnce(
        job({ paused: true }, [
          { ...run, run_id: 'r2', status: 'running' },
          run
        ])
      );
    const started = await model.runNow('sales');
    expect(started!.run_id).toBe('r2');
    expect(model.jobs[0].runs.map(r => r.status)).toEqual([
      'running',
      'success'
    ]);

    requestMock.mockResolvedValueOnce(undefined);
    await model.remove('adhoc');
    expect(requestMock).toHaveBeenLastCalledWith(
      'jobs/adhoc',
      settings,
      expect.objectContaining({ method: 'DELETE' })
    );
    expect(model.jobs.map(j => j.spec.id)).toEqual(['sales']);
    expect(model.busy.size).toBe(0);
    model.dispose();
  });

  it('follows a run under way by reading it by key, not by listing, and refreshes its job when it ends', async () => {
    const run = (status: string) => ({
      job_id: 'sales',
      owner: 'alice',
      run_id: 'r1',
      status,
      output_uri: 's3://smallfry-demo/runs/alice/sales/r1/output.ipynb',
      start: '2026-11-24T05:00:00Z',
      end: status === 'success' ? '2026-11-24T05:00:09Z' : null,
      duration_seconds: status === 'success' ? 9 : null,
      error: null
    });
    const progress = (cell: number) => ({
      state: cell === 3 ? 'done' : 'running',
      cell,
      cells: 3,
      started: '2026-11-24T05:00:00Z',
      updated: '2026-11-24T05:00:05Z',
      elapsed_seconds: 5,
      cell_source_head: 'df = sf.read("sales")',
      output_tail: [`line ${cell}`]
    });
    // The server: no runs until "Run now"; then the run is read twice
    // under way and once done.
    const details = [
      { run: run('running'), progress: progress(1) },
      { run: run('running'), progress: progress(2) },
      { run: run('success'), progress: progress(3) }
    ];
    let started = false;
    const calls: string[] = [];
    requestMock.mockImplementation(async (path: string) => {
      calls.push(path);
      if (path === 'jobs/sales/run') {
        started = true;
        return { run_id: 'r1', run_uri: 'u', output_uri: 'o' };
      }
      if (path === 'jobs/sales/runs/r1') {
        return details.length > 1 ? details.shift()! : details[0];
      }
      const done = details.length === 1;
      const current = job(
        {},
        started ? [run(done ? 'success' : 'running')] : []
      );
      if (path === 'jobs') {
        return { jobs: [current], jobs_uri: '/x/jobs', runs_uri: 's3://x/' };
      }
      return current;
    });
    const model = new JobsModel({
      serverSettings: settings,
      refreshInterval: 60000,
      progressInterval: 20
    });
    const until = (done: () => boolean) =>
      new Promise<void>(resolve => {
        const check = () => {
          if (done()) {
            model.changed.disconnect(check);
            resolve();
          }
        };
        check();
        model.changed.connect(check);
      });
    const status = () => model.jobs[0]?.runs[0]?.status;

    model.visible = true;
    const listed = until(() => model.loaded);
    model.start();
    await listed;
    expect(model.hasActiveRuns).toBe(false);
    // No run under way: nothing is read but the listing.
    await sleep(100);
    expect(calls).toEqual(['jobs']);

    await model.runNow('sales');
    expect(status()).toBe('running');
    expect(model.hasActiveRuns).toBe(true);

    // The cell and the output as the runner wrote them...
    await Promise.race([
      until(() => model.progress('sales', 'r1')?.progress?.cell === 2),
      sleep(5000)
    ]);
    expect(model.progress('sales', 'r1')!.progress!.output_tail).toEqual([
      'line 2'
    ]);
    // ...then the end, seen from the run itself, and the job read again.
    await Promise.race([until(() => status() === 'success'), sleep(5000)]);
    expect(status()).toBe('success');
    await until(() => calls[calls.length - 1] === 'jobs/sales');
    expect(model.hasActiveRuns).toBe(false);
    // Never a listing while following the run.
    expect(calls.filter(c => c === 'jobs')).toHaveLength(1);
    expect(calls.filter(c => c === 'jobs/sales/runs/r1')).toHaveLength(3);

    // And nothing more once it ended.
    const count = calls.length;
    await sleep(200);
    expect(calls).toHaveLength(count);
    model.dispose();
  });

  it('stops reading a run under way while the panel is hidden', async () => {
    const running = {
      job_id: 'sales',
      owner: 'alice',
      run_id: 'r9',
      status: 'running',
      output_uri: 'o',
      start: '2026-11-24T05:00:00Z',
      end: null,
      duration_seconds: null,
      error: null
    };
    let reads = 0;
    requestMock.mockImplementation(async (path: string) => {
      if (path === 'jobs/sales/runs/r9') {
        reads++;
        return { run: running, progress: null };
      }
      return { jobs: [job({}, [running])], jobs_uri: '', runs_uri: '' };
    });
    const model = new JobsModel({
      serverSettings: settings,
      refreshInterval: 60000,
      progressInterval: 20
    });
    model.visible = true;
    model.start();
    await model.refresh();
    await sleep(150);
    expect(reads).toBeGreaterThan(1);
    model.visible = false;
    await sleep(50);
    const seen = reads;
    await sleep(200);
    expect(reads).toBe(seen);
    model.dispose();
  });

  it('keeps a filtered history current with the runs the listing brings', async () => {
    const manifest = (runId: string, status: string) => ({
      job_id: 'sales',
      owner: 'alice',
      run_id: runId,
      status,
      output_uri: 'o',
      start: null,
      end: null,
      duration_seconds: null,
      error: null
    });
    let listed = [manifest('r2', 'failed')];
    requestMock.mockImplementation(async (path: string) => {
      if (path.startsWith('jobs/sales/runs?')) {
        return { runs: [manifest('r2', 'failed')], next: 'r2' };
      }
      return {
        jobs: [job({}, listed), job({ id: 'other' })],
        jobs_uri: '',
        runs_uri: ''
      };
    });
    const model = new JobsModel({ serverSettings: settings, pageSize: 5 });
    await model.refresh();
    await model.setFilter('sales', 'failed');
    expect(requestMock).toHaveBeenLastCalledWith(
      'jobs/sales/runs?limit=5&status=failed',
      settings
    );
    expect(model.runsOf('sales').map(r => r.run_id)).toEqual(['r2']);
    expect(model.history('sales')).toMatchObject({
      expanded: true,
      filter: 'failed',
      next: 'r2'
    });

    // A new failure goes on top; a new success stays out of "failed".
    listed = [
      manifest('r4', 'success'),
      manifest('r3', 'failed'),
      manifest('r2', 'failed')
    ];
    await model.refresh();
    expect(model.runsOf('sales').map(r => r.run_id)).toEqual(['r3', 'r2']);

    // A page that comes back after the user went back to the newest runs
    // changes nothing.
    const late = model.showMore('sales');
    model.collapse('sales');
    await late;
    expect(model.history('sales').expanded).toBe(false);
    expect(model.runsOf('sales').map(r => r.run_id)).toEqual([
      'r4',
      'r3',
      'r2'
    ]);

    // Checks for a comparison belong to one job at a time.
    model.toggleChecked('sales', 'r3');
    model.toggleChecked('sales', 'r2');
    // (No start times: the run ids order them.)
    expect(model.compareRequest('sales')).toEqual({
      jobId: 'sales',
      base: 'r2',
      remote: 'r3'
    });
    model.toggleChecked('other', 'x');
    expect(model.checked('sales')).toEqual([]);
    expect(model.checked('other')).toEqual(['x']);
    model.dispose();
  });

  it('keeps the server message when a listing fails', async () => {
    requestMock.mockRejectedValueOnce(new Error('jobs location unreachable'));
    const model = new JobsModel({ serverSettings: settings });
    await expect(model.refresh()).rejects.toThrow();
    expect(model.error).toBe('jobs location unreachable');
    model.dispose();
  });
});
