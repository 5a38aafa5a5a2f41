/**
 * The dialog's model and the Jobs panel's model, through their signals.
 *
 * Only the REST module (`src/api.ts`, its `requestAPI`) is replaced here, by
 * a jest mock that answers like `jobs/handlers.py`; everything else (the
 * schema, the validation, cron-parser, cronstrue) is the real code.
 */
import * as fs from 'fs';
import * as path from 'path';

import { ServerConnection } from '@jupyterlab/services';
import { sleep } from '@jupyterlab/testing';

jest.mock('../../api', () => ({
  ...jest.requireActual('../../api'),
  requestAPI: jest.fn()
}));

import { APIError, IFieldError, requestAPI } from '../../api';
import type { IJob, IJobSpec } from '../api';
import { JobsModel } from '../jobs';
import { fieldOf, ScheduleModel, slugify } from '../model';
import { parseParametersCell } from '../parameters';
import { SpecValidator } from '../validation';

const requestMock = requestAPI as jest.MockedFunction<typeof requestAPI>;
const JOBS = path.resolve(
  __dirname,
  '../../../server-ext/jupyterlab_smallfry/jobs'
);
const settings = ServerConnection.makeSettings({ baseUrl: 'http://x/' });
// Tuesday 2026-11-24 20:00 UTC.
const NOW = Date.UTC(2026, 10, 24, 20, 0);

let validator: SpecValidator;

beforeAll(async () => {
  validator = await SpecValidator.create(
    JSON.parse(fs.readFileSync(path.join(JOBS, 'jobspec.schema.json'), 'utf-8'))
  );
});

beforeEach(() => {
  requestMock.mockReset();
});

function notebook(overrides: Partial<ScheduleModel.IOptions['notebook']> = {}) {
  return {
    path: 'reports/Sales Report.ipynb',
    source: 'reports/Sales Report.ipynb',
    kernel: 'python3',
    dirty: false,
    cell: parseParametersCell("region = 'EU'\ndays = 1\ndry_run = False"),
    ...overrides
  };
}

function dialog(options: Partial<ScheduleModel.IOptions> = {}) {
  return new ScheduleModel({
    serverSettings: settings,
    validator,
    notebook: notebook(),
    timezone: 'Europe/Amsterdam',
    now: () => NOW,
    ...options
  });
}

/**
 * A refusal as `requestAPI` throws it: the message joins the problems the
 * way the server's does, for clients that only read it.
 */
function refusal(
  status: number,
  errors: IFieldError[],
  message = errors.map(e => `${e.field}: ${e.message}`).join('; ')
): APIError {
  return new APIError(
    new Response(JSON.stringify({ message, errors }), { status }),
    message,
    errors
  );
}

function job(spec: Partial<IJobSpec>, runs: any[] = []): IJob {
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
    dag_id: 'smallfry__alice__sales'
  };
}

describe('ScheduleModel', () => {
  it('starts from the notebook: id, parameters, weekday schedule in the browser zone', () => {
    const model = dialog();
    expect(model.form.id).toBe('sales-report');
    expect(model.form.timezone).toBe('Europe/Amsterdam');
    expect(model.form.startDate).toBe('2026-11-24');
    expect(model.parameters.map(p => [p.name, p.type, p.text])).toEqual([
      ['region', 'str', 'EU'],
      ['days', 'int', '1'],
      ['dry_run', 'bool', 'false']
    ]);
    expect(model.validate()).toBe(true);
    expect(model.warnings).toEqual([]);
  });

  it('previews the next five runs in words, through the changed signal', async () => {
    const model = dialog();
    const seen = new Promise<void>(resolve =>
      model.changed.connect(() => {
        if (model.preview.runs.length) {
          resolve();
        }
      })
    );
    model.set('cron', '0 6 * * 1-5');
    model.set('timezone', 'America/New_York');
    await seen;
    expect(model.preview.description).toBe('At 06:00, Monday through Friday');
    expect(model.preview.runs.map(r => r.local)).toEqual([
      '2026-11-25T06:00:00-05:00',
      '2026-11-26T06:00:00-05:00',
      '2026-11-27T06:00:00-05:00',
      '2026-11-30T06:00:00-05:00',
      '2026-12-01T06:00:00-05:00'
    ]);
  });

  it('puts each problem next to its field', () => {
    const model = dialog();
    model.set('cron', '0 24 * * *');
    model.set('emails', 'alice@example.com, not-an-address');
    model.setParameter('days', 'two');
    expect(model.validate()).toBe(false);
    expect(Object.keys(model.errors)).toEqual(['parameters.days']);
    model.setParameter('days', '2');
    expect(model.errors['schedule.cron']).toMatch(/hour: 24 is outside 0-23/);
    expect(model.errors['notifications.on_failure']).toMatch(/pattern/);
    model.set('cron', '@daily');
    model.set('timezone', 'Europe/Amsterdan');
    expect(model.errors['schedule.timezone']).toMatch(/IANA/);
    expect(model.errors['schedule.cron']).toBeUndefined();
  });

  it('warns before scheduling something that would fail', () => {
    const model = dialog({
      notebook: notebook({ dirty: true, kernel: null, cell: null }),
      existing: null
    });
    expect(model.warnings.map(w => w.kind)).toEqual([
      'unsaved',
      'no-kernel',
      'no-parameters'
    ]);
    // The user picks a kernel and saves with the form open.
    let changes = 0;
    model.changed.connect(() => changes++);
    model.updateNotebookState({ dirty: false, kernel: 'python3' });
    expect(changes).toBe(1);
    expect(model.warnings.map(w => w.kind)).toEqual(['no-parameters']);
    const edited = dialog({
      existing: job({ parameters: { region: 'US', regoin: 'typo' } }).spec
    });
    expect(edited.warnings.map(w => [w.kind, w.message])).toEqual([
      ['unknown-parameter', expect.stringContaining('"regoin"')]
    ]);
    expect(edited.parameters.find(p => p.name === 'region')!.text).toBe('US');
  });

  it('POSTs a typed spec and shows a server refusal on its field', async () => {
    const model = dialog();
    model.setParameter('days', '7');
    model.set('emails', 'alice@example.com');
    requestMock.mockRejectedValueOnce(
      refusal(409, [
        {
          field: 'id',
          message:
            "a job 'sales-report' already exists; edit it or pick another id"
        }
      ])
    );
    expect(await model.submit()).toBeNull();
    expect(model.errors).toEqual({
      id: "a job 'sales-report' already exists; edit it or pick another id"
    });
    const [endpoint, , init] = requestMock.mock.calls[0];
    expect(endpoint).toBe('jobs');
    expect(init!.method).toBe('POST');
    const body = JSON.parse(init!.body as string);
    expect(body).toMatchObject({
      id: 'sales-report',
      notebook: { source: 'reports/Sales Report.ipynb', kernel: 'python3' },
      parameters: { region: 'EU', days: 7, dry_run: false },
      schedule: {
        type: 'cron',
        cron: '0 6 * * 1-5',
        timezone: 'Europe/Amsterdam',
        start_date: '2026-11-24'
      },
      notifications: { on_failure: ['alice@example.com'] }
    });
    expect(body.owner).toBeUndefined();
  });

  it("puts each of the server's problems on its field, each message whole", async () => {
    const model = dialog();
    requestMock.mockRejectedValueOnce(
      refusal(400, [
        {
          field: 'schedule.cron',
          message:
            "unknown preset '@sometimes'; use one of @hourly, @daily, @weekly"
        },
        {
          field: 'notifications.on_failure.1',
          message: 'is not an email; check it'
        },
        {
          field: 'notifications.on_failure.2',
          message: 'is not an email either'
        },
        { field: 'parameters.days', message: 'must be an int; got "x"' },
        { field: 'priority', message: 'unknown field; remove it' }
      ])
    );
    expect(await model.submit()).toBeNull();
    expect(model.errors).toEqual({
      'schedule.cron':
        "unknown preset '@sometimes'; use one of @hourly, @daily, @weekly",
      'notifications.on_failure': 'is not an email; check it',
      'parameters.days': 'must be an int; got "x"',
      '': 'priority: unknown field; remove it'
    });
  });

  it('shows a refusal that names no field whole, for the job as a whole', async () => {
    const model = dialog({
      existing: job({}).spec,
      existingEtag: '"v1"',
      notebook: null
    });
    const message =
      "The job 'sales' was changed by someone else since you opened it; reload it and make your change again";
    requestMock.mockRejectedValueOnce(refusal(409, [], message));
    expect(await model.submit()).toBeNull();
    expect(model.errors).toEqual({ '': message });
  });

  it('PUTs an edit without re-snapshotting unless asked', async () => {
    const existing = job({
      notebook: {
        uri: `s3://b/snapshots/${'a'.repeat(64)}.ipynb`,
        sha256: 'a'.repeat(64),
        kernel: 'python3'
      },
      image: 'example/papermill:1'
    }).spec;
    const model = dialog({ existing, notebook: null });
    requestMock.mockResolvedValueOnce(job({}));
    model.set('scheduleType', 'manual');
    expect(await model.submit()).not.toBeNull();
    const [endpoint, , init] = requestMock.mock.calls[0];
    expect(endpoint).toBe('jobs/sales');
    expect(init!.method).toBe('PUT');
    const body = JSON.parse(init!.body as string);
    expect(body.notebook).toBeUndefined();
    expect(body.image).toBe('example/papermill:1');
    expect(body.schedule).toEqual({ type: 'manual' });
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
        job({}, [run]),
        job({ id: 'adhoc', schedule: { type: 'manual' } })
      ],
      jobs_uri: '/x/jobs',
      runs_uri: 's3://smallfry-demo/runs/'
    });
    const model = new JobsModel({ serverSettings: settings, now: () => NOW });
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
      now: () => NOW,
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
