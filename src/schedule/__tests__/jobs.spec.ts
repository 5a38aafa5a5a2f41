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
import type { IJob, IJobSpec } from '../api';
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
  runs: any[] = [],
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

  it('lists again every few seconds while a run is going, so its outcome shows soon', async () => {
    const run = (status: string) => ({
      job_id: 'sales',
      owner: 'alice',
      run_id: 'r1',
      status,
      output_uri: 's3://smallfry-demo/runs/alice/sales/r1/output.ipynb',
      start: '2026-11-24T05:00:00Z',
      end: null,
      duration_seconds: null,
      error: null
    });
    // The server: no runs until "Run now"; then two listings see the run
    // going and the third sees it done.
    let runs: string[] = [];
    let listings = 0;
    requestMock.mockImplementation(async (path: string) => {
      if (path === 'jobs/sales/run') {
        runs = ['running', 'running', 'success'];
        return { run_id: 'r1', run_uri: 'u', output_uri: 'o' };
      }
      const status = runs.length > 1 ? runs.shift()! : runs[0];
      const current = job({}, status ? [run(status)] : []);
      if (path === 'jobs') {
        listings++;
        return { jobs: [current], jobs_uri: '/x/jobs', runs_uri: 's3://x/' };
      }
      return current;
    });
    const model = new JobsModel({
      serverSettings: settings,
      refreshInterval: 60000,
      activeRefreshInterval: 20
    });
    const until = (done: () => boolean) =>
      new Promise<void>(resolve => {
        const check = () => {
          if (done()) {
            model.changed.disconnect(check);
            resolve();
          }
        };
        model.changed.connect(check);
      });
    const status = () => model.jobs[0]?.runs[0]?.status;

    model.visible = true;
    const listed = until(() => model.loaded);
    model.start();
    await listed;
    expect(model.hasActiveRuns).toBe(false);

    await model.runNow('sales');
    expect(status()).toBe('running');
    expect(model.hasActiveRuns).toBe(true);

    // The panel follows the run to its end on its own, well before the
    // normal minute between listings...
    const before = listings;
    await Promise.race([until(() => status() === 'success'), sleep(5000)]);
    expect(status()).toBe('success');
    expect(listings - before).toBe(2);
    expect(model.hasActiveRuns).toBe(false);

    // ...and then goes back to its normal pace.
    await sleep(200);
    expect(listings - before).toBe(2);
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
