/**
 * The schedule form's model against the real Jupyter server the jest global
 * setup starts: the server checks every edit (`POST smallfry/jobs/check`)
 * and the model shows its answer — each problem on its field, the next runs
 * as Airflow fires them — and schedules only what the server accepts.
 */
import * as fs from 'fs';
import * as path from 'path';

import { ServerConnection } from '@jupyterlab/services';

import type { IJobSpec } from '../api';
import { JobsAPI } from '../api';
import { INotebookInfo, ScheduleModel } from '../model';
import { parseParametersCell } from '../parameters';
import {
  serverSettings,
  uniqueName as unique
} from '../../__tests__/harness/connection';

const settings = serverSettings();
// Tuesday 2026-11-24 20:00 UTC: the previews below are counted from here.
const NOW = Date.UTC(2026, 10, 24, 20, 0);
const PARAMETERS = "region = 'EU'\ndays = 1\ndry_run = False";

/** A saved notebook with a kernel and a parameters cell, in the server's root. */
function writeNotebook(name: string): string {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3' }
    },
    cells: [
      {
        id: 'params',
        cell_type: 'code',
        metadata: { tags: ['parameters'] },
        source: PARAMETERS,
        outputs: [],
        execution_count: null
      }
    ]
  };
  fs.writeFileSync(
    path.join(process.env.SMALLFRY_TEST_HOME!, name),
    JSON.stringify(notebook)
  );
  return name;
}

function notebook(over: Partial<INotebookInfo> = {}): INotebookInfo {
  const name = `${unique('model')}.ipynb`;
  return {
    path: name,
    source: name,
    kernel: 'python3',
    dirty: false,
    cell: parseParametersCell(PARAMETERS),
    ...over
  };
}

const models: ScheduleModel[] = [];

function form(options: Partial<ScheduleModel.IOptions> = {}): ScheduleModel {
  const model = new ScheduleModel({
    serverSettings: settings,
    notebook: notebook(),
    timezone: 'Europe/Amsterdam',
    now: () => NOW,
    // Short, so the tests wait little; the debounce itself is tested below.
    checkDelay: 20,
    ...options
  });
  models.push(model);
  return model;
}

afterEach(() => {
  for (const model of models.splice(0)) {
    model.dispose();
  }
});

/** Resolve once `done()` holds, checking after every `changed`. */
function until(model: ScheduleModel, done: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (done()) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      model.changed.disconnect(check);
      reject(new Error('the model never got there'));
    }, 15000);
    const check = () => {
      if (done()) {
        clearTimeout(timer);
        model.changed.disconnect(check);
        resolve();
      }
    };
    model.changed.connect(check);
  });
}

describe('ScheduleModel with the server', () => {
  it('starts from the notebook and shows the next five runs the server computed', async () => {
    const model = form();
    expect(model.form.id).toMatch(/^model-/);
    expect(model.form.startDate).toBe('2026-11-24');
    expect(model.parameters.map(p => [p.name, p.type, p.text])).toEqual([
      ['region', 'str', 'EU'],
      ['days', 'int', '1'],
      ['dry_run', 'bool', 'false']
    ]);
    expect(await model.check()).toBe(true);
    expect(model.errors).toEqual({});
    expect(model.preview.description).toBe('At 06:00, Monday through Friday');
    expect(model.preview.runs.map(r => r.local)).toEqual([
      '2026-11-25T06:00:00+01:00',
      '2026-11-26T06:00:00+01:00',
      '2026-11-27T06:00:00+01:00',
      '2026-11-30T06:00:00+01:00',
      '2026-12-01T06:00:00+01:00'
    ]);
    expect(model.preview.runs[0].utc).toBe('2026-11-25T05:00:00Z');
  });

  it('checks an edit once the typing pauses and shows the new runs', async () => {
    const model = form({ checkDelay: 250 });
    await model.check();
    model.set('timezone', 'America/New_York');
    model.set('cron', '30 1 * * *');
    model.set('startDate', '2027-11-05');
    // Nothing asked yet: the edits are still coming.
    expect(model.checking).toBe(true);
    await until(model, () => model.preview.runs[0]?.local.endsWith('-04:00'));
    expect(model.checking).toBe(false);
    // 01:30 comes twice on 2027-11-07: Airflow runs the second (EST) one.
    expect(model.preview.runs.map(r => [r.local, r.dst ?? ''])).toEqual([
      ['2027-11-05T01:30:00-04:00', ''],
      ['2027-11-06T01:30:00-04:00', ''],
      ['2027-11-07T01:30:00-05:00', 'repeated'],
      ['2027-11-08T01:30:00-05:00', ''],
      ['2027-11-09T01:30:00-05:00', '']
    ]);
    expect(model.preview.description).toBe('At 01:30');
  });

  it("puts each of the server's problems next to its field", async () => {
    const model = form();
    model.set('cron', '0 24 * * *');
    model.set('timezone', 'Europe/Amsterdan');
    model.addDestination('on_failure');
    model.setDestination('on_failure', 0, { target: 'alice@example.com' });
    model.addDestination('on_failure');
    model.setDestination('on_failure', 1, { target: 'not-an-address' });
    model.set('outputTemplate', 's3://b/{owner}/{day}/{run_id}/');
    expect(await model.check()).toBe(false);
    expect(model.errors['schedule.cron']).toBe('hour: 24 is outside 0-23');
    expect(model.errors['schedule.timezone']).toBe(
      "'Europe/Amsterdan' is not an IANA time zone (for example Europe/Amsterdam)"
    );
    expect(model.errors['notifications.on_failure']).toMatch(/not-an-address/);
    expect(model.errors['output.uri_template']).toBe(
      'unknown placeholder {day}; use {owner}, {job_id}, {run_id}'
    );
    expect(model.preview.runs).toEqual([]);
    expect(model.preview.error).toMatch(/once the schedule is valid/);

    model.set('cron', '@daily');
    model.set('timezone', 'UTC');
    await model.check();
    expect(model.errors['schedule.cron']).toBeUndefined();
    expect(model.errors['schedule.timezone']).toBeUndefined();
    expect(model.preview.runs[0].utc).toBe('2026-11-25T00:00:00Z');
    expect(model.preview.description).toBe('At 00:00');
  });

  it("keeps the form's own problems first and still asks about the rest", async () => {
    const model = form();
    model.setParameter('days', 'two');
    model.set('cron', '61 * * * *');
    await model.check();
    expect(model.errors['parameters.days']).toBe('must be a whole number');
    expect(model.errors['schedule.cron']).toBe('minute: 61 is outside 0-59');
    expect(await model.submit()).toBeNull();
  });

  it('never lets an older answer overwrite a newer one', async () => {
    // The server is real; only the first check's answer is held back until
    // the second one has landed.
    let release!: () => void;
    const held = new Promise<void>(resolve => (release = resolve));
    let calls = 0;
    let heldBack = false;
    const slowFirst = ServerConnection.makeSettings({
      ...settings,
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = input instanceof Request ? input.url : String(input);
        // Which check was asked first is known when it is sent: counted
        // after the answer, a faster answer to the second would be held.
        const first =
          new URL(url).pathname.endsWith('/jobs/check') && calls++ === 0;
        // Set when the first check is sent, not when its answer is read: the
        // second answer may land before that (which is the case under test).
        heldBack ||= first;
        const answer = await fetch(input, init);
        if (first) {
          // Read the body first: an unread body keeps its connection busy.
          const body = await answer.text();
          await held;
          return new Response(body, {
            status: answer.status,
            headers: answer.headers
          });
        }
        return answer;
      }) as typeof fetch
    });
    const model = form({ serverSettings: slowFirst });
    model.set('cron', '0 24 * * *');
    const older = model.check();
    model.set('cron', '15 8 * * *');
    const newer = model.check();
    expect(await newer).toBe(true);
    expect(model.preview.runs[0].local).toBe('2026-11-25T08:15:00+01:00');
    expect(heldBack).toBe(true);
    release();
    expect(await older).toBe(false);
    expect(model.errors).toEqual({});
    expect(model.preview.runs[0].local).toBe('2026-11-25T08:15:00+01:00');
  });

  it('says when the server cannot be reached, and refuses to schedule', async () => {
    const gone = ServerConnection.makeSettings({
      ...settings,
      // Nothing listens on port 9 (discard) of this machine.
      baseUrl: 'http://127.0.0.1:9/'
    });
    const model = form({ serverSettings: gone });
    expect(await model.check()).toBe(false);
    expect(model.errors['']).toMatch(/server cannot be reached/);
    expect(model.preview.runs).toEqual([]);
    expect(await model.submit()).toBeNull();
    expect(model.errors['']).toMatch(/cannot be scheduled until/);
  });

  it('schedules what the server accepts, typed, and owned by the signed-in user', async () => {
    const info = notebook();
    writeNotebook(info.source);
    const model = form({ notebook: info });
    const id = unique('model-save');
    model.set('id', id);
    model.setParameter('days', '7');
    model.addDestination('on_failure');
    model.setDestination('on_failure', 0, { target: 'alice@example.com' });
    const job = await model.submit();
    expect(job).not.toBeNull();
    const stored = (await JobsAPI.get(settings, id)).spec;
    expect(stored).toMatchObject({
      id,
      parameters: { region: 'EU', days: 7, dry_run: false },
      schedule: {
        type: 'cron',
        cron: '0 6 * * 1-5',
        timezone: 'Europe/Amsterdam',
        start_date: '2026-11-24'
      },
      notifications: { on_failure: ['alice@example.com'] }
    });
    expect(stored.owner).toBeTruthy();
    expect(stored.notebook!.sha256).toMatch(/^[0-9a-f]{64}$/);

    // The same id again: the server's refusal is on the id, whole.
    const again = form({ notebook: info });
    again.set('id', id);
    expect(await again.submit()).toBeNull();
    expect(again.errors).toEqual({
      id: `a job '${id}' already exists; edit it or pick another id`
    });
    await JobsAPI.remove(settings, id);
  });

  it('shows a refusal about no field whole, for the job as a whole', async () => {
    const info = notebook();
    writeNotebook(info.source);
    const id = unique('model-edit');
    const created = await JobsAPI.create(settings, {
      id,
      notebook: { source: info.source },
      schedule: { type: 'manual' }
    });
    const existing: IJobSpec = created.spec;
    // Someone else changes it after this form was opened.
    await JobsAPI.update(
      settings,
      id,
      { ...existing, title: 'changed elsewhere' },
      created.etag
    );
    const model = form({
      existing,
      existingEtag: created.etag,
      notebook: null
    });
    model.set('title', 'mine');
    expect(await model.submit()).toBeNull();
    expect(model.errors).toEqual({
      '': `The job '${id}' was changed by someone else since you opened it; reload it and make your change again`
    });
    await JobsAPI.remove(settings, id);
  });
});

describe('The form’s notifications', () => {
  it('saves e-mail, Slack, Teams and webhook destinations by reference, and reopens them as they were', async () => {
    const info = notebook();
    writeNotebook(info.source);
    const model = form({ notebook: info });
    const id = unique('model-notify');
    model.set('id', id);
    model.set('scheduleType', 'manual');
    model.addDestination('on_failure');
    model.setDestination('on_failure', 0, { target: 'oncall@example.com' });
    model.addDestination('on_failure');
    model.setDestination('on_failure', 1, {
      type: 'slack',
      target: 'smallfry_notify_sales'
    });
    model.addDestination('on_success');
    model.setDestination('on_success', 0, {
      type: 'teams',
      via: 'secret',
      target: 'smallfry/notify/teams-sales'
    });
    model.addDestination('on_duration_over');
    model.setDestination('on_duration_over', 0, {
      type: 'webhook',
      target: 'smallfry_notify_ops'
    });
    model.set('durationMinutes', '45');
    expect(await model.submit()).not.toBeNull();
    const stored = (await JobsAPI.get(settings, id)).spec;
    expect(stored.notifications).toEqual({
      on_failure: [
        'oncall@example.com',
        { type: 'slack', connection: 'smallfry_notify_sales' }
      ],
      on_success: [{ type: 'teams', secret: 'smallfry/notify/teams-sales' }],
      on_duration_over: {
        seconds: 2700,
        to: [{ type: 'webhook', connection: 'smallfry_notify_ops' }]
      }
    });

    const edit = form({ existing: stored, notebook: null });
    expect(edit.form.notify).toEqual({
      on_failure: [
        { type: 'email', via: 'connection', target: 'oncall@example.com' },
        { type: 'slack', via: 'connection', target: 'smallfry_notify_sales' }
      ],
      on_success: [
        { type: 'teams', via: 'secret', target: 'smallfry/notify/teams-sales' }
      ],
      on_duration_over: [
        { type: 'webhook', via: 'connection', target: 'smallfry_notify_ops' }
      ]
    });
    expect(edit.form.durationMinutes).toBe('45');
    // A row added and left empty is no destination, and no problem.
    edit.addDestination('on_success');
    expect(edit.toSpec().notifications!.on_success).toEqual(
      stored.notifications!.on_success
    );
    expect(await edit.check()).toBe(true);
    edit.removeDestination('on_success', 1);
    // Removing every destination of an event removes the event.
    edit.removeDestination('on_duration_over', 0);
    edit.removeDestination('on_success', 0);
    expect(edit.toSpec().notifications).toEqual({
      on_failure: stored.notifications!.on_failure
    });
    await JobsAPI.remove(settings, id);
  });

  it("shows the server's refusal of a webhook URL next to that event", async () => {
    const model = form();
    model.addDestination('on_success');
    model.setDestination('on_success', 0, {
      type: 'slack',
      target: 'https://hooks.slack.com/services/T000/B000/XXXX'
    });
    expect(await model.check()).toBe(false);
    // The server's words (the spec's schema), on the event the row is in.
    expect(model.errors['notifications.on_success']).toMatch(/\S/);
    expect(Object.keys(model.errors)).toEqual(['notifications.on_success']);
    model.setDestination('on_success', 0, { target: 'smallfry_notify_sales' });
    expect(await model.check()).toBe(true);
    expect(model.errors).toEqual({});
  });

  it('needs a number of minutes for runs that take too long; the server judges the number', async () => {
    const model = form();
    model.addDestination('on_duration_over');
    model.setDestination('on_duration_over', 0, {
      target: 'oncall@example.com'
    });
    model.set('durationMinutes', '');
    await model.check();
    expect(model.errors['notifications.on_duration_over.seconds']).toBe(
      'must be a number'
    );
    model.set('durationMinutes', '0');
    expect(await model.check()).toBe(false);
    expect(model.errors['notifications.on_duration_over.seconds']).toMatch(/1/);
    model.set('durationMinutes', '90');
    expect(await model.check()).toBe(true);
    expect(model.toSpec().notifications!.on_duration_over).toEqual({
      seconds: 5400,
      to: ['oncall@example.com']
    });
  });
});

describe('The form’s After field', () => {
  it('offers my other jobs, and schedules a job that runs after one of them', async () => {
    const info = notebook();
    writeNotebook(info.source);
    const upstream = unique('model-up');
    await JobsAPI.create(settings, {
      id: upstream,
      title: 'Extract sales',
      notebook: { source: info.source },
      schedule: { type: 'manual' }
    });
    const model = form({ notebook: info });
    const id = unique('model-down');
    model.set('id', id);
    await model.loadJobs();
    expect(model.jobsListed).toBe(true);
    expect(model.otherJobs).toContainEqual({
      id: upstream,
      title: 'Extract sales',
      missing: false
    });
    expect(model.otherJobs.some(j => j.id === id)).toBe(false);

    model.set('scheduleType', 'after');
    await model.check();
    // The form's own: "after" with nothing picked.
    expect(model.errors.after).toBe('pick the jobs this one runs after');
    model.setAfter(upstream, true);
    expect(await model.check()).toBe(true);
    expect(model.preview.description).toBe(`Runs after ${upstream} succeeds`);
    expect(await model.submit()).not.toBeNull();
    const stored = (await JobsAPI.get(settings, id)).spec;
    expect(stored.after).toEqual([upstream]);
    expect(stored.schedule).toEqual({ type: 'manual' });

    // Reopened, it is still a job that runs after the other.
    const edit = form({ existing: stored, notebook: null });
    expect(edit.form.scheduleType).toBe('after');
    expect(edit.form.after).toEqual([upstream]);
    // Back to a cron schedule: no longer after anything.
    edit.set('scheduleType', 'cron');
    expect(edit.toSpec().after).toBeUndefined();
    expect(edit.toSpec().schedule.type).toBe('cron');

    // The upstream cannot go while this one runs after it.
    await expect(JobsAPI.remove(settings, upstream)).rejects.toThrow(id);
    await JobsAPI.remove(settings, id);
    await JobsAPI.remove(settings, upstream);
  });

  it("puts the server's refusal of a missing upstream or a cycle on the After field", async () => {
    const info = notebook();
    writeNotebook(info.source);
    const a = unique('model-a');
    const model = form({ notebook: info });
    model.set('id', a);
    model.set('scheduleType', 'after');
    model.setAfter('no-such-job', true);
    expect(await model.submit()).toBeNull();
    expect(model.errors.after).toBe(
      "no job of yours is called 'no-such-job': create it first or remove it"
    );
    model.setAfter('no-such-job', false);
    model.set('scheduleType', 'manual');
    expect(await model.submit()).not.toBeNull();

    // b runs after a; then a after b is a loop.
    const b = unique('model-b');
    await JobsAPI.create(settings, {
      id: b,
      notebook: { source: info.source },
      schedule: { type: 'manual' },
      after: [a]
    });
    const created = await JobsAPI.get(settings, a);
    const edit = form({
      existing: created.spec,
      existingEtag: created.etag,
      notebook: null
    });
    await edit.loadJobs();
    expect(edit.otherJobs.map(j => j.id)).toContain(b);
    edit.set('scheduleType', 'after');
    edit.setAfter(b, true);
    expect(await edit.submit()).toBeNull();
    expect(edit.errors.after).toBe(
      `these jobs would wait for each other forever: ${a} → ${b} → ${a}`
    );
    await JobsAPI.remove(settings, b);
    await JobsAPI.remove(settings, a);
  });
});
