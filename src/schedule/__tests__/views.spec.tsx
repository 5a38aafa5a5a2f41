/**
 * The "Schedule this notebook" form and the Jobs panel in the DOM, driven
 * like a user drives them. Models and cronstrue are the real code; the
 * REST calls (the checks of the form included) go to the real Jupyter
 * server the jest global setup starts (jobs and runs in its work folder). Run manifests are
 * written where the server lists them, as a finished run leaves them,
 * instead of executing notebooks.
 */
import * as fs from 'fs';
import * as path from 'path';

import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { enter, waitFor } from '../../__tests__/harness/dom';

import { IJob, IJobSpec, IRunManifest, JobsAPI } from '../api';
import { ScheduleDialog } from '../dialog';
import { JobsModel } from '../jobs';
import { INotebookInfo, ScheduleModel } from '../model';
import { IJobsPanelActions, JobsPanel } from '../panel';
import { parseParametersCell } from '../parameters';
import {
  serverSettings,
  uniqueName as unique
} from '../../__tests__/harness/connection';

const trans = nullTranslator.load('jupyterlab_smallfry');
// Tuesday 2026-11-24 20:00 UTC: the previews below are counted from here.
const NOW = Date.UTC(2026, 10, 24, 20, 0);
const ZONE = 'Europe/Amsterdam';
const PARAMETERS = "region = 'EU'  # sales region\ndays = 1\ndry_run = False";

// The jest global setup's servers (the harness lives with the S3 specs).
const settings = serverSettings();

/** A saved notebook with a kernel and a parameters cell, in the server's root. */
function writeNotebook(name: string): string {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      }
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

function notebookInfo(over: Partial<INotebookInfo> = {}): INotebookInfo {
  return {
    path: 'reports/Sales Report.ipynb',
    source: 'reports/Sales Report.ipynb',
    kernel: 'python3',
    dirty: false,
    cell: parseParametersCell(PARAMETERS),
    ...over
  };
}

function text(node: Element | null | undefined): string {
  return node?.textContent?.trim() ?? '';
}

describe('schedule form', () => {
  const open: ScheduleDialog[] = [];

  afterEach(() => {
    for (const dialog of open.splice(0)) {
      dialog.dispose();
    }
  });

  /** Open the form the way the schedule command does. */
  function openForm(options: Partial<ScheduleModel.IOptions> = {}) {
    const model = new ScheduleModel({
      serverSettings: settings,
      notebook: notebookInfo(),
      timezone: ZONE,
      now: () => NOW,
      trans,
      ...options
    });
    const dialog = new ScheduleDialog({ model, trans });
    Widget.attach(dialog, document.body);
    open.push(dialog);
    const node = dialog.node;
    const field = <E extends Element = HTMLInputElement>(name: string) =>
      waitFor(
        () => node.querySelector<E>(`[name="${name}"]`),
        `the field ${name}`
      );
    return { model, dialog, node, field };
  }

  it('shows an invalid cron next to its field and does not schedule it', async () => {
    const name = writeNotebook(`${unique('bad-cron')}.ipynb`);
    const id = unique('bad-cron');
    const { model, dialog, node, field } = openForm({
      notebook: notebookInfo({ path: name, source: name })
    });
    enter(await field('id'), id);
    const cron = await field('schedule.cron');
    enter(cron, '0 24 * * *');

    const error = await waitFor(
      () =>
        cron
          .closest('[data-field="schedule.cron"]')
          ?.querySelector('.jp-smallfry-FieldError'),
      'the cron error'
    );
    expect(text(error)).toMatch(/hour: 24 is outside 0-23/);
    expect(error.getAttribute('role')).toBe('alert');
    expect(cron.getAttribute('aria-invalid')).toBe('true');
    // No words and no next runs for a schedule that cannot fire.
    await waitFor(
      () => node.querySelectorAll('.jp-smallfry-PreviewRun').length === 0,
      'the preview to empty'
    );

    const button = node.querySelector<HTMLButtonElement>(
      '.jp-smallfry-ScheduleButton'
    )!;
    expect(text(button)).toBe('Schedule');
    let settled = false;
    void dialog.done.then(() => (settled = true));
    button.click();
    // Refused at once: the server's answer for this form already said no.
    expect(model.saving).toBe(false);
    await expect(JobsAPI.get(settings, id)).rejects.toMatchObject({
      response: { status: 404 }
    });
    expect(settled).toBe(false);
    expect(dialog.isAttached).toBe(true);
    expect(
      node.querySelector('.jp-smallfry-FieldError[data-field="schedule.cron"]')
    ).not.toBeNull();

    // Corrected, the same button schedules the job on the server.
    enter(cron, '30 7 * * *');
    await waitFor(
      () =>
        !node.querySelector(
          '.jp-smallfry-FieldError[data-field="schedule.cron"]'
        ),
      'the cron error to go'
    );
    button.click();
    const job = (await dialog.done)!;
    expect(job.spec).toMatchObject({
      id,
      schedule: { type: 'cron', cron: '30 7 * * *', timezone: ZONE }
    });
    expect((await JobsAPI.get(settings, id)).spec.schedule.cron).toBe(
      '30 7 * * *'
    );
    await JobsAPI.remove(settings, id);
  });

  it("shows the server's refusal on its field, whole", async () => {
    const name = writeNotebook(`${unique('taken')}.ipynb`);
    const id = unique('taken');
    await JobsAPI.create(settings, {
      id,
      notebook: { source: name },
      schedule: { type: 'manual' }
    });
    const { dialog, node, field } = openForm({
      notebook: notebookInfo({ path: name, source: name })
    });
    enter(await field('id'), id);
    node
      .querySelector<HTMLButtonElement>('.jp-smallfry-ScheduleButton')!
      .click();

    const error = await waitFor(
      () => node.querySelector('.jp-smallfry-FieldError[data-field="id"]'),
      'the id error'
    );
    // The server's message contains "; ": it must not be cut in two.
    expect(text(error)).toBe(
      `a job '${id}' already exists; edit it or pick another id`
    );
    expect(
      node.querySelector('.jp-smallfry-FieldError[data-field=""]')
    ).toBeNull();
    expect(dialog.isAttached).toBe(true);
    await JobsAPI.remove(settings, id);
  });

  it('puts each of the server’s problems on its own field', async () => {
    const name = writeNotebook(`${unique('several')}.ipynb`);
    const id = unique('several');
    const { model, node, field } = openForm({
      notebook: notebookInfo({ path: name, source: name })
    });
    enter(await field('id'), id);
    enter(await field('schedule.cron'), '@sometimes');
    enter(await field('schedule.timezone'), 'Mars/Olympus');
    enter(await field('output.uri_template'), 's3://b/{foo}/{run_id}/');
    node
      .querySelector<HTMLButtonElement>('.jp-smallfry-ScheduleButton')!
      .click();

    const errorOn = (path: string) =>
      text(node.querySelector(`.jp-smallfry-FieldError[data-field="${path}"]`));
    await waitFor(
      () => errorOn('output.uri_template'),
      'the output location error'
    );
    expect(model.saving).toBe(false);
    expect(errorOn('schedule.cron')).toBe(
      "unknown preset '@sometimes'; use one of @hourly, @daily, @weekly, @monthly, @quarterly, @yearly"
    );
    expect(errorOn('schedule.timezone')).toBe(
      "'Mars/Olympus' is not an IANA time zone (for example Europe/Amsterdam)"
    );
    expect(errorOn('output.uri_template')).toBe(
      'unknown placeholder {foo}; use {owner}, {job_id}, {run_id}'
    );
    expect(
      node.querySelector('.jp-smallfry-FieldError[data-field=""]')
    ).toBeNull();
    await expect(JobsAPI.get(settings, id)).rejects.toMatchObject({
      response: { status: 404 }
    });
  });

  it('fills the cron from a preset and shows it in words with the next five runs', async () => {
    const { node, field } = openForm();
    const preset = await field<HTMLSelectElement>('preset');
    expect(Array.from(preset.options).map(o => text(o))).toContain(
      'Every day at midnight'
    );
    enter(preset, '@daily');

    const cron = await field('schedule.cron');
    expect(cron.value).toBe('@daily');
    await waitFor(
      () =>
        text(node.querySelector('.jp-smallfry-PreviewDescription')) ===
        'At 00:00',
      'the schedule in words'
    );
    const runs = await waitFor(() => {
      const items = node.querySelectorAll('.jp-smallfry-PreviewRun');
      return items.length > 0 && items;
    }, 'the next runs');
    expect(Array.from(runs).map(r => text(r))).toEqual([
      '2026-11-25 00:00:00+01:00',
      '2026-11-26 00:00:00+01:00',
      '2026-11-27 00:00:00+01:00',
      '2026-11-28 00:00:00+01:00',
      '2026-11-29 00:00:00+01:00'
    ]);
    // Typing a preset's cron by hand shows that preset as chosen.
    enter(cron, '0 6 * * 1-5');
    await waitFor(
      () =>
        text(node.querySelector('.jp-smallfry-PreviewDescription')) ===
        'At 06:00, Monday through Friday',
      'the weekday schedule in words'
    );
    expect(preset.value).toBe('0 6 * * 1-5');
  });

  it("offers the notebook's parameters with their types", async () => {
    const { node, field } = openForm();
    const region = await field('parameters.region');
    const days = await field('parameters.days');
    const dryRun = await field<HTMLSelectElement>('parameters.dry_run');
    const typeOf = (input: Element) =>
      text(
        input
          .closest('[data-field^="parameters."]')
          ?.querySelector('.jp-smallfry-Type')
      );

    expect([region.type, region.value, typeOf(region)]).toEqual([
      'text',
      'EU',
      'str'
    ]);
    expect([days.type, days.value, typeOf(days)]).toEqual([
      'number',
      '1',
      'int'
    ]);
    expect([dryRun.value, typeOf(dryRun)]).toEqual(['false', 'bool']);
    expect(Array.from(dryRun.options).map(o => o.value)).toEqual([
      'true',
      'false'
    ]);
    // The comment in the parameters cell is the field's help.
    expect(text(region.closest('[data-field="parameters.region"]'))).toContain(
      'sales region'
    );
    expect(node.querySelector('.jp-smallfry-Warning')).toBeNull();
  });

  it('flags a parameter the notebook does not assign, and lets it go', async () => {
    const existing: IJobSpec = {
      id: 'sales',
      owner: 'someone',
      title: 'Sales',
      notebook: { uri: 'file:///snapshots/x.ipynb', sha256: '0'.repeat(64) },
      parameters: { region: 'US', regoin: 'typo' },
      schedule: { type: 'cron', cron: '@daily', timezone: ZONE }
    };
    const { model, node, field } = openForm({ existing });
    expect((await field('parameters.region')).value).toBe('US');
    const unknown = await field('parameters.regoin');
    const row = unknown.closest('[data-field="parameters.regoin"]')!;
    const warning = await waitFor(
      () =>
        node.querySelector(
          '.jp-smallfry-Warning[data-kind="unknown-parameter"]'
        ),
      'the unknown-parameter warning'
    );
    expect(text(warning)).toContain('does not assign "regoin"');
    // Parameters the notebook knows cannot be removed; this one can.
    expect(
      node
        .querySelector('[data-field="parameters.region"]')!
        .querySelector('button')
    ).toBeNull();
    const remove = Array.from(row.querySelectorAll('button')).find(
      b => text(b) === 'Remove'
    )!;
    remove.click();
    await waitFor(
      () => !node.querySelector('[name="parameters.regoin"]'),
      'the parameter to go'
    );
    expect(node.querySelector('.jp-smallfry-Warning')).toBeNull();
    // Removing a row edits the form; it must not submit it.
    expect(model.saving).toBe(false);
    expect(text(node.querySelector('.jp-smallfry-ScheduleButton'))).toBe(
      'Save'
    );
  });

  it('warns before scheduling unsaved changes or a notebook without parameters', async () => {
    const { node } = openForm({
      notebook: notebookInfo({ dirty: true, cell: null })
    });
    const warnings = await waitFor(() => {
      const found = node.querySelectorAll('.jp-smallfry-Warning');
      return found.length > 0 && found;
    }, 'the warnings');
    expect(
      Array.from(warnings).map(w => [w.getAttribute('data-kind'), text(w)])
    ).toEqual([
      ['unsaved', expect.stringContaining('unsaved changes')],
      ['no-parameters', expect.stringContaining('no cell tagged "parameters"')]
    ]);
    expect(node.querySelector('[name^="parameters."]')).toBeNull();
    expect(text(node.querySelector('.jp-smallfry-Parameters'))).toContain(
      'No parameters: the notebook runs as it is.'
    );
  });
});

describe('Jobs panel', () => {
  const daily = unique('views-daily');
  const paused = unique('views-paused');
  let owner: string;
  let panel: JobsPanel;
  let opened: string[];
  let openable: boolean;

  /** Where the server lists the runs of a job (the job's output template). */
  function runFolder(job: IJob, runId: string): string {
    // Python's quote(owner, safe="@+"), as the server names owner folders.
    const ownerKey = job.spec.owner!.replace(
      /[^A-Za-z0-9_.~@+-]/g,
      c => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
    );
    return job.spec
      .output!.uri_template!.replace('{owner}', ownerKey)
      .replace('{job_id}', job.spec.id)
      .replace('{run_id}', runId);
  }

  /** Leave a run's manifest where a finished run leaves it. */
  function writeRun(
    job: IJob,
    runId: string,
    run: Partial<IRunManifest>
  ): IRunManifest {
    const folder = runFolder(job, runId);
    const manifest: IRunManifest = {
      apiVersion: 'smallfry/v1',
      kind: 'NotebookRun',
      job_id: job.spec.id,
      owner: job.spec.owner!,
      run_id: runId,
      trigger: 'server',
      status: 'success',
      output_uri: path.join(folder, 'output.ipynb'),
      start: null,
      end: null,
      duration_seconds: null,
      error: null,
      ...run
    };
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'run.json'), JSON.stringify(manifest));
    return manifest;
  }

  beforeAll(async () => {
    const source = writeNotebook(`${unique('jobs')}.ipynb`);
    const base = {
      notebook: { source },
      parameters: { region: 'EU', days: 1, dry_run: false }
    };
    const job = await JobsAPI.create(settings, {
      ...base,
      id: daily,
      title: 'Daily sales',
      schedule: {
        type: 'cron',
        cron: '0 6 * * 1-5',
        timezone: ZONE,
        start_date: '2026-11-01'
      }
    });
    owner = job.spec.owner!;
    await JobsAPI.create(settings, {
      ...base,
      id: paused,
      schedule: {
        type: 'cron',
        cron: '@weekly',
        timezone: 'UTC',
        start_date: '2026-11-01'
      },
      paused: true
    });
    writeRun(job, 'smallfry__2026-11-23T06-00-00__aaaaaa', {
      status: 'success',
      start: '2026-11-23T05:00:00Z',
      end: '2026-11-23T05:01:30Z',
      duration_seconds: 90
    });
    writeRun(job, 'smallfry__2026-11-24T06-00-00__bbbbbb', {
      status: 'failed',
      start: '2026-11-24T05:00:00Z',
      end: '2026-11-24T05:00:12Z',
      duration_seconds: 12,
      error: {
        type: 'KeyError',
        message: "'region'",
        traceback: 'Traceback (most recent call last): …'
      }
    });
  });

  afterAll(async () => {
    for (const id of [daily, paused]) {
      await JobsAPI.remove(settings, id).catch(() => undefined);
    }
  });

  beforeEach(async () => {
    opened = [];
    openable = true;
    const actions: IJobsPanelActions = {
      openOutput: async uri => {
        opened.push(uri);
        return openable;
      },
      edit: () => undefined
    };
    panel = new JobsPanel({
      model: new JobsModel({ serverSettings: settings }),
      trans,
      actions
    });
    Widget.attach(panel, document.body);
    await panel.model.refresh();
  });

  afterEach(() => {
    panel.dispose();
    // A delete confirmation left open by a failed test.
    document.querySelectorAll('.jp-Dialog').forEach(d => d.remove());
  });

  function row(id: string): Promise<HTMLElement> {
    return waitFor(
      () =>
        panel.node.querySelector<HTMLElement>(
          `.jp-smallfry-Job[data-job-id="${id}"]`
        ),
      `the job ${id}`
    );
  }

  it('shows each job with its schedule in words and whether it runs', async () => {
    const job = await row(daily);
    expect(text(job.querySelector('.jp-smallfry-JobTitle'))).toBe(
      'Daily sales enabled'
    );
    expect(text(job.querySelector('.jp-smallfry-JobSchedule'))).toBe(
      `At 06:00, Monday through Friday (${ZONE})`
    );
    // The server's next run (from its clock): a weekday at 06:00 in
    // Amsterdam, written in the job's zone and the browser's language.
    const next = (await JobsAPI.get(settings, daily)).next_run!;
    expect(Date.parse(next)).toBeGreaterThan(Date.now() - 60000);
    const wall = new Intl.DateTimeFormat('en-GB', {
      timeZone: ZONE,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23'
    }).format(new Date(next));
    expect(wall).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 06:00$/);
    const shown = new Date(next).toLocaleString(undefined, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: ZONE
    });
    expect(text(job.querySelector('.jp-smallfry-JobNext'))).toBe(
      `Next run: ${shown}`
    );
    expect(text(job.querySelector('.jp-smallfry-Pause'))).toBe('Pause');
    expect(job.classList).not.toContain('jp-mod-paused');

    const stopped = await row(paused);
    expect(text(stopped.querySelector('.jp-smallfry-JobTitle'))).toBe(
      `${paused} paused`
    );
    expect(stopped.classList).toContain('jp-mod-paused');
    expect(text(stopped.querySelector('.jp-smallfry-JobSchedule'))).toBe(
      'At 00:00, only on Sunday (UTC)'
    );
    expect(stopped.querySelector('.jp-smallfry-JobNext')).toBeNull();
    expect(text(stopped.querySelector('.jp-smallfry-Pause'))).toBe('Resume');
    expect(text(stopped)).toContain('No runs yet');
    expect(owner).toBeTruthy();
  });

  it('lists runs with status, duration and the output to open', async () => {
    const job = await row(daily);
    const runs = Array.from(job.querySelectorAll('.jp-smallfry-Run'));
    expect(
      runs.map(r => [
        r.getAttribute('data-status'),
        text(r.querySelector('.jp-smallfry-RunStatus')),
        text(r.querySelector('.jp-smallfry-RunDuration'))
      ])
    ).toEqual([
      ['failed', 'failed', '12 s'],
      ['success', 'success', '1 min 30 s']
    ]);
    expect(text(runs[0].querySelector('.jp-smallfry-RunError'))).toBe(
      "KeyError: 'region'"
    );
    expect(runs[1].querySelector('.jp-smallfry-RunError')).toBeNull();

    const link = runs[1].querySelector<HTMLAnchorElement>(
      '.jp-smallfry-RunOutput'
    )!;
    expect(text(link)).toBe('output');
    const uri = link.title;
    expect(uri).toMatch(
      /smallfry__2026-11-23T06-00-00__aaaaaa\/output\.ipynb$/
    );
    link.click();
    expect(opened).toEqual([uri]);

    // An output that cannot be opened here is shown as its address.
    openable = false;
    const failedLink = runs[0].querySelector<HTMLAnchorElement>(
      '.jp-smallfry-RunOutput'
    )!;
    const failedUri = failedLink.title;
    failedLink.click();
    const shown = await waitFor(
      () => runs[0].querySelector('.jp-smallfry-RunUri'),
      'the output address'
    );
    expect(text(shown)).toBe(failedUri);
    expect(runs[0].querySelector('.jp-smallfry-RunOutput')).toBeNull();
  });

  it('asks before deleting a job, and keeps it when the user cancels', async () => {
    const doomed = unique('views-doomed');
    await JobsAPI.create(settings, {
      id: doomed,
      notebook: { source: writeNotebook(`${doomed}.ipynb`) },
      schedule: { type: 'manual' }
    });
    await panel.model.refresh();
    const job = await row(doomed);
    expect(text(job.querySelector('.jp-smallfry-JobSchedule'))).toBe(
      'Runs only when started by hand'
    );

    const ask = async () => {
      job.querySelector<HTMLButtonElement>('.jp-smallfry-Delete')!.click();
      // The dialog's title renders (React) after the dialog is attached.
      return waitFor(() => {
        const shown = document.querySelector<HTMLElement>('.jp-Dialog');
        return text(shown?.querySelector('.jp-Dialog-header')) ? shown : null;
      }, 'the confirmation');
    };
    let dialog = await ask();
    expect(text(dialog.querySelector('.jp-Dialog-header'))).toBe(
      `Delete job ${doomed}?`
    );
    expect(text(dialog.querySelector('.jp-Dialog-body'))).toContain(
      'Outputs of past runs stay where they are.'
    );
    // Asking deleted nothing.
    expect((await JobsAPI.get(settings, doomed)).spec.id).toBe(doomed);
    dialog.querySelector<HTMLButtonElement>('.jp-mod-reject')!.click();
    await waitFor(() => !document.querySelector('.jp-Dialog'), 'no dialog');
    expect((await JobsAPI.get(settings, doomed)).spec.id).toBe(doomed);
    expect(
      panel.node.querySelector(`.jp-smallfry-Job[data-job-id="${doomed}"]`)
    ).not.toBeNull();

    dialog = await ask();
    const confirm = dialog.querySelector<HTMLButtonElement>('.jp-mod-warn')!;
    expect(text(confirm)).toBe('Delete');
    confirm.click();
    await waitFor(
      () =>
        !panel.node.querySelector(`.jp-smallfry-Job[data-job-id="${doomed}"]`),
      'the job to leave the panel'
    );
    await expect(JobsAPI.get(settings, doomed)).rejects.toMatchObject({
      response: { status: 404 }
    });
  });
});
