/**
 * The Jobs panel's run history in the DOM, driven like a user drives it,
 * against the real Jupyter server the jest global setup starts: its run
 * history routes (`…/runs`, `…/runs/<id>`, `…/runs/<id>/inputs`, `…/run`).
 * Runs are left where the server reads them (run.json, progress.json and
 * the status index next to them) the way a runner leaves them, so a run can
 * be shown under way, failed or with lineage on cue; re-runs and runs with
 * other parameters are started for real.
 */
import * as fs from 'fs';
import * as path from 'path';

import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { enter, waitFor } from '../../__tests__/harness/dom';

import {
  IJob,
  IRunManifest,
  IRunProgress,
  JobsAPI,
  ParameterValue
} from '../api';
import { JobsModel } from '../jobs';
import { IJobsPanelActions, JobsPanel } from '../panel';
import type { ICompareRequest } from '../runs';
import {
  serverSettings,
  uniqueName as unique
} from '../../__tests__/harness/connection';

const trans = nullTranslator.load('jupyterlab_smallfry');
const BUCKET = 'smallfry-test';

/** The server's settings, counting the paths the panel asks for. */
const requested: string[] = [];
const base = serverSettings();
const settings: ServerConnection.ISettings = {
  ...base,
  fetch: (input: RequestInfo, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input.url;
    // Without the smallfry/ namespace and JupyterLab's cache-busting stamp.
    const route = url
      .slice(base.baseUrl.length)
      .replace(/^smallfry\//, '')
      .replace(/[?&]\d{13}$/, '');
    const method =
      init?.method ?? (typeof input === 'string' ? 'GET' : input.method);
    requested.push(`${method} ${route}`);
    return base.fetch(input, init);
  }
};

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
        source: "region = 'EU'\ndays = 1\ndry_run = False",
        outputs: [],
        execution_count: null
      },
      {
        id: 'work',
        cell_type: 'code',
        metadata: {},
        source: 'print(region, days)',
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

function text(node: Element | null | undefined): string {
  return node?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
}

/** The open JupyterLab dialog, once its title has rendered. */
function dialog(): Promise<HTMLElement> {
  return waitFor(() => {
    const shown = document.querySelector<HTMLElement>('.jp-Dialog');
    return text(shown?.querySelector('.jp-Dialog-header')) ? shown : null;
  }, 'a dialog');
}

/** Where the server keeps a job's runs (its output template). */
function runsFolder(job: IJob): string {
  const owner = job.spec.owner!.replace(
    /[^A-Za-z0-9_.~@+-]/g,
    c => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
  );
  return job.spec
    .output!.uri_template!.replace('{owner}', owner)
    .replace('{job_id}', job.spec.id)
    .split('{run_id}')[0];
}

/**
 * Leave a run as the runner leaves it: run.json, progress.json while it
 * runs, and the status index once it ended.
 */
function writeRun(
  job: IJob,
  runId: string,
  run: Partial<IRunManifest>,
  progress?: IRunProgress
): IRunManifest {
  const folder = path.join(runsFolder(job), runId);
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
  if (progress) {
    fs.writeFileSync(
      path.join(folder, 'progress.json'),
      JSON.stringify(progress)
    );
  }
  if (manifest.status === 'success' || manifest.status === 'failed') {
    const index = path.join(runsFolder(job), '.index', manifest.status);
    fs.mkdirSync(index, { recursive: true });
    fs.writeFileSync(path.join(index, runId), '');
  }
  return manifest;
}

const runId = (day: number, tag: string) =>
  `smallfry__2026-11-${String(day).padStart(2, '0')}T06-00-00__${tag}`;

describe('Jobs panel run history', () => {
  const upstreamId = unique('hist-extract');
  const id = unique('hist-report');
  let job: IJob;
  let panel: JobsPanel;
  let opened: string[];
  let shownInS3: string[];
  let compared: ICompareRequest[];

  beforeAll(async () => {
    const source = writeNotebook(`${id}.ipynb`);
    const parameters: { [name: string]: ParameterValue } = {
      region: 'EU',
      days: 1,
      dry_run: false
    };
    await JobsAPI.create(settings, {
      id: upstreamId,
      notebook: { source },
      parameters,
      schedule: { type: 'manual' }
    });
    job = await JobsAPI.create(settings, {
      id,
      notebook: { source },
      parameters,
      schedule: { type: 'manual' },
      after: [upstreamId]
    });
    // Seven runs, newest first: one under way, a failure, a re-run, a run
    // an upstream job started, a retry, and two older schedule runs with
    // no `triggered_by` (from before it was recorded).
    writeRun(
      job,
      runId(9, 'running'),
      {
        status: 'running',
        start: new Date(Date.now() - 65000).toISOString(),
        triggered_by: 'run_now',
        parameters,
        cells: 5
      },
      {
        state: 'running',
        cell: 2,
        cells: 5,
        started: new Date(Date.now() - 65000).toISOString(),
        updated: new Date().toISOString(),
        elapsed_seconds: 60,
        cell_source_head: 'df = load(region)',
        output_tail: ['loading EU', 'read 120 rows']
      }
    );
    writeRun(job, runId(8, 'failed'), {
      status: 'failed',
      start: '2026-11-08T05:00:00Z',
      end: '2026-11-08T05:00:12Z',
      duration_seconds: 12,
      triggered_by: 'parameters',
      parameters: { ...parameters, region: 'Atlantis' },
      notebook: { uri: 's3://x/snap.ipynb', sha256: 'ab' },
      error: {
        type: 'KeyError',
        message: "'Atlantis'",
        cell_index: 3,
        execution_count: 4,
        cell_source:
          'rows = sales[region]\nprint(rows)\ntotal = sum(rows)\nmore()',
        traceback: "Traceback (most recent call last):\nKeyError: 'Atlantis'"
      }
    });
    writeRun(job, runId(7, 'rerun'), {
      start: '2026-11-07T05:00:00Z',
      end: '2026-11-07T05:01:00Z',
      duration_seconds: 60,
      triggered_by: 'rerun',
      parameters: { ...parameters, region: 'US', days: 3 },
      notebook: job.spec.notebook as { uri: string; sha256: string },
      lineage: {
        reads: [
          {
            bucket: BUCKET,
            key: `${id}/sales.csv`,
            etag: 'not-what-it-is-now',
            version_id: null,
            bytes: 2048
          },
          {
            bucket: BUCKET,
            key: `${id}/gone.csv`,
            etag: 'e0',
            version_id: null,
            bytes: 10
          }
        ],
        writes: [
          {
            bucket: BUCKET,
            key: `${id}/report.parquet`,
            etag: 'e1',
            version_id: '3',
            bytes: 5 * 1024 * 1024
          }
        ],
        truncated: false
      }
    });
    writeRun(job, runId(6, 'upstream'), {
      start: '2026-11-06T05:00:00Z',
      duration_seconds: 30,
      triggered_by: 'upstream',
      upstream: [{ job_id: upstreamId, run_id: runId(6, 'up') }]
    });
    writeRun(job, runId(5, 'retry'), {
      start: '2026-11-05T05:00:00Z',
      duration_seconds: 30,
      try_number: 2
    });
    writeRun(job, 'scheduled__2026-11-04T06-00-00-00-00', {
      start: '2026-11-04T05:00:00Z',
      duration_seconds: 30
    });
    writeRun(job, runId(3, 'old'), {
      status: 'failed',
      start: '2026-11-03T05:00:00Z',
      duration_seconds: 5,
      error: { type: 'ValueError', message: 'old' }
    });
    // What the re-run read, as it is now: changed since (the other is gone).
    // Through the server's S3 gateway, which signs with the server's keys.
    await ServerConnection.makeRequest(
      `${base.baseUrl}smallfry/aws/s3/${BUCKET}`,
      { method: 'PUT' },
      base
    );
    const put = await ServerConnection.makeRequest(
      `${base.baseUrl}smallfry/aws/s3/${BUCKET}/${id}/sales.csv`,
      { method: 'PUT', body: 'region,total\nEU,3\n' },
      base
    );
    expect([put.status, await put.text()]).toEqual([200, '']);
  });

  afterAll(async () => {
    for (const j of [id, upstreamId]) {
      await JobsAPI.remove(settings, j).catch(() => undefined);
    }
  });

  beforeEach(async () => {
    opened = [];
    shownInS3 = [];
    compared = [];
    const actions: IJobsPanelActions = {
      openOutput: async uri => {
        opened.push(uri);
        return true;
      },
      edit: () => undefined,
      openS3: async uri => {
        shownInS3.push(uri);
        return true;
      },
      compare: async request => {
        compared.push(request);
      }
    };
    panel = new JobsPanel({
      model: new JobsModel({
        serverSettings: settings,
        refreshInterval: 600000,
        progressInterval: 200,
        pageSize: 2
      }),
      trans,
      actions
    });
    Widget.attach(panel, document.body);
    await panel.model.refresh();
  });

  afterEach(() => {
    panel.dispose();
    document.querySelectorAll('.jp-Dialog').forEach(d => d.remove());
  });

  function row(): Promise<HTMLElement> {
    return waitFor(
      () =>
        panel.node.querySelector<HTMLElement>(
          `.jp-smallfry-Job[data-job-id="${id}"]`
        ),
      `the job ${id}`
    );
  }

  function runRow(jobRow: HTMLElement, run: string): Promise<HTMLElement> {
    return waitFor(
      () =>
        jobRow.querySelector<HTMLElement>(
          `.jp-smallfry-Run[data-run-id="${run}"]`
        ),
      `the run ${run}`
    );
  }

  /** Every run of the job, newest first, a page of two at a time. */
  async function showAll(): Promise<void> {
    await panel.model.showMore(id);
    while (panel.model.history(id).next) {
      await panel.model.showMore(id);
    }
  }

  const shownRuns = (jobRow: HTMLElement) =>
    Array.from(jobRow.querySelectorAll('.jp-smallfry-Run')).map(r =>
      r.getAttribute('data-run-id')
    );

  it('says which job a chained job runs after', async () => {
    const jobRow = await row();
    expect(text(jobRow.querySelector('.jp-smallfry-JobAfter'))).toBe(
      `Runs after: ${upstreamId}`
    );
    const upstream = panel.node.querySelector(
      `.jp-smallfry-Job[data-job-id="${upstreamId}"]`
    );
    expect(upstream!.querySelector('.jp-smallfry-JobAfter')).toBeNull();
  });

  it('follows a run under way by reading it alone, until it ends', async () => {
    panel.model.visible = true;
    panel.model.start();
    const jobRow = await row();
    const running = await runRow(jobRow, runId(9, 'running'));
    expect(running.getAttribute('data-status')).toBe('running');
    const progress = await waitFor(
      () =>
        /cell 2 of 5/.test(
          text(running.querySelector('.jp-smallfry-RunProgress'))
        ) && running.querySelector('.jp-smallfry-RunProgress'),
      'cell 2 of 5'
    );
    // Elapsed from the start, ticking between reads.
    expect(text(progress.querySelector('.jp-smallfry-RunElapsed'))).toMatch(
      /^1 min \d+ s elapsed$/
    );
    expect(text(running.querySelector('.jp-smallfry-RunCellHead'))).toBe(
      'df = load(region)'
    );
    expect(
      running.querySelector('.jp-smallfry-RunOutputTail')!.textContent
    ).toBe('loading EU\nread 120 rows');
    // A run under way has no actions yet.
    expect(running.querySelector('.jp-smallfry-Rerun')).toBeNull();

    // The runner moves on...
    const listingsBefore = requested.filter(r => r === 'GET jobs').length;
    writeRun(
      job,
      runId(9, 'running'),
      {
        status: 'running',
        start: new Date(Date.now() - 70000).toISOString(),
        cells: 5
      },
      {
        state: 'running',
        cell: 4,
        cells: 5,
        started: new Date(Date.now() - 70000).toISOString(),
        updated: new Date().toISOString(),
        elapsed_seconds: 70,
        output_tail: ['read 120 rows', 'total 3']
      }
    );
    await waitFor(
      () =>
        /cell 4 of 5/.test(
          text(running.querySelector('.jp-smallfry-RunProgress'))
        ),
      'cell 4 of 5'
    );
    expect(text(running.querySelector('.jp-smallfry-RunOutputTail'))).toBe(
      'read 120 rows total 3'
    );
    // ...and ends: the row says so without a listing of the jobs.
    writeRun(job, runId(9, 'running'), {
      status: 'success',
      start: new Date(Date.now() - 75000).toISOString(),
      end: new Date().toISOString(),
      duration_seconds: 75,
      triggered_by: 'run_now',
      cells: 5
    });
    const done = await waitFor(
      () =>
        jobRow.querySelector<HTMLElement>(
          `.jp-smallfry-Run[data-run-id="${runId(9, 'running')}"][data-status="success"]`
        ),
      'the run to end'
    );
    expect(done.querySelector('.jp-smallfry-RunProgress')).toBeNull();
    expect(text(done.querySelector('.jp-smallfry-RunDuration'))).toBe(
      '1 min 15 s'
    );
    expect(requested.filter(r => r === 'GET jobs').length).toBe(listingsBefore);
    expect(
      requested.filter(r => r.startsWith(`GET jobs/${id}/runs/`)).length
    ).toBeGreaterThanOrEqual(3);
    // Ended: read no more.
    const reads = requested.length;
    await new Promise(resolve => setTimeout(resolve, 600));
    expect(
      requested.filter(r => r.startsWith(`GET jobs/${id}/runs/`)).length
    ).toBe(
      requested
        .slice(0, reads)
        .filter(r => r.startsWith(`GET jobs/${id}/runs/`)).length
    );
  });

  it("shows a failed run's failing cell, its error and traceback, and opens the partial output", async () => {
    const failed = await runRow(await row(), runId(8, 'failed'));
    expect(failed.getAttribute('data-status')).toBe('failed');
    expect(text(failed.querySelector('.jp-smallfry-RunError'))).toBe(
      "KeyError: 'Atlantis'"
    );
    expect(text(failed.querySelector('.jp-smallfry-RunFailingCellName'))).toBe(
      'Failed in Cell [4]'
    );
    // The first lines of the cell, and that more follow.
    expect(
      failed.querySelector('.jp-smallfry-RunFailingSource')!.textContent
    ).toBe('rows = sales[region]\nprint(rows)\ntotal = sum(rows)\n…');
    const traceback = failed.querySelector<HTMLDetailsElement>(
      'details.jp-smallfry-RunTraceback'
    )!;
    expect(traceback.open).toBe(false);
    expect(traceback.querySelector('pre')!.textContent).toBe(
      "Traceback (most recent call last):\nKeyError: 'Atlantis'"
    );
    failed
      .querySelector<HTMLAnchorElement>('.jp-smallfry-RunPartialOutput')!
      .click();
    await waitFor(() => opened.length === 1, 'the output to open');
    expect(opened[0]).toMatch(/failed\/output\.ipynb$/);
  });

  it('says what started each run and with which parameters', async () => {
    const jobRow = await row();
    await showAll();
    await waitFor(() => shownRuns(jobRow).length === 7, 'every run');
    const trigger = (run: string) =>
      jobRow.querySelector(
        `.jp-smallfry-Run[data-run-id="${run}"] .jp-smallfry-RunTrigger`
      );
    expect(
      [
        runId(8, 'failed'),
        runId(7, 'rerun'),
        runId(6, 'upstream'),
        runId(5, 'retry'),
        'scheduled__2026-11-04T06-00-00-00-00',
        runId(3, 'old')
      ].map(r => [trigger(r)!.getAttribute('data-trigger'), text(trigger(r))])
    ).toEqual([
      ['parameters', 'other parameters'],
      ['rerun', 're-run'],
      ['upstream', 'upstream job'],
      ['retry', 'retry'],
      ['schedule', 'schedule'],
      ['run_now', 'Run now']
    ]);
    const upstream = await runRow(jobRow, runId(6, 'upstream'));
    expect(text(upstream.querySelector('.jp-smallfry-RunUpstream'))).toBe(
      `After ${upstreamId} (${runId(6, 'up')})`
    );
    const rerun = await runRow(jobRow, runId(7, 'rerun'));
    const parameters = rerun.querySelector('.jp-smallfry-RunParameters')!;
    expect(text(parameters.querySelector('summary'))).toBe(
      "region='US', days=3, dry_run=False"
    );
    expect(
      Array.from(parameters.querySelectorAll('tr')).map(tr => [
        text(tr.querySelector('th')),
        text(tr.querySelector('td'))
      ])
    ).toEqual([
      ['region', "'US'"],
      ['days', '3'],
      ['dry_run', 'False']
    ]);
    expect(text(rerun.querySelector('.jp-smallfry-RunEnd'))).not.toBe('');
  });

  it('shows the newest three, then pages of the history, and filters by status', async () => {
    const jobRow = await row();
    expect(shownRuns(jobRow)).toEqual([
      runId(9, 'running'),
      runId(8, 'failed'),
      runId(7, 'rerun')
    ]);
    const more = () =>
      jobRow.querySelector<HTMLButtonElement>('.jp-smallfry-RunsMore');
    expect(text(more())).toBe('Show more runs');
    more()!.click();
    // The first page (two runs here), then one more page at each click.
    await waitFor(
      () => shownRuns(jobRow).length === 2 && text(more()) === 'More runs',
      'the first page'
    );
    more()!.click();
    await waitFor(() => shownRuns(jobRow).length === 4, 'the second page');
    expect(shownRuns(jobRow)).toEqual([
      runId(9, 'running'),
      runId(8, 'failed'),
      runId(7, 'rerun'),
      runId(6, 'upstream')
    ]);
    const pages = requested.filter(r => r.startsWith(`GET jobs/${id}/runs?`));
    expect(pages[pages.length - 1]).toBe(
      `GET jobs/${id}/runs?limit=2&before=${encodeURIComponent(runId(8, 'failed'))}`
    );
    while (more()) {
      more()!.click();
      await waitFor(() => !panel.model.history(id).loading, 'the page');
    }
    expect(shownRuns(jobRow)).toHaveLength(7);

    // Only the failures, from the status index.
    enter(
      jobRow.querySelector<HTMLSelectElement>('.jp-smallfry-RunFilter')!,
      'failed'
    );
    await waitFor(
      () =>
        shownRuns(jobRow).join() ===
        [runId(8, 'failed'), runId(3, 'old')].join(),
      'the failed runs'
    );
    expect(
      Array.from(jobRow.querySelectorAll('.jp-smallfry-Run')).map(r =>
        r.getAttribute('data-status')
      )
    ).toEqual(['failed', 'failed']);
    expect(requested[requested.length - 1]).toBe(
      `GET jobs/${id}/runs?limit=2&status=failed`
    );
    enter(
      jobRow.querySelector<HTMLSelectElement>('.jp-smallfry-RunFilter')!,
      'running'
    );
    await waitFor(
      () =>
        text(jobRow.querySelector('.jp-smallfry-JobRuns')).includes(
          'No runs of this status'
        ),
      'no run under way'
    );
    // Back to the newest three.
    jobRow.querySelector<HTMLButtonElement>('.jp-smallfry-RunsLess')!.click();
    await waitFor(() => shownRuns(jobRow).length === 3, 'the newest three');
    expect(
      jobRow.querySelector<HTMLSelectElement>('.jp-smallfry-RunFilter')!.value
    ).toBe('');
  });

  it('lists what a run read and wrote, each a link into the S3 browser', async () => {
    const rerun = await runRow(await row(), runId(7, 'rerun'));
    const lineage = rerun.querySelector<HTMLDetailsElement>(
      'details.jp-smallfry-RunLineage'
    )!;
    expect(text(lineage.querySelector('summary'))).toBe(
      'Data: 2 read, 1 written'
    );
    const links = Array.from(
      lineage.querySelectorAll<HTMLAnchorElement>('a.jp-smallfry-LineageLink')
    );
    expect(links.map(a => a.dataset.uri)).toEqual([
      `s3://${BUCKET}/${id}/sales.csv`,
      `s3://${BUCKET}/${id}/gone.csv`,
      `s3://${BUCKET}/${id}/report.parquet`
    ]);
    expect(
      Array.from(lineage.querySelectorAll('.jp-smallfry-LineageObject')).map(
        li => text(li.querySelector('.jp-smallfry-Muted'))
      )
    ).toEqual([
      '2.0 KiB · ETag not-what-it-is-now',
      '10 B · ETag e0',
      '5.0 MiB · ETag e1 · version 3'
    ]);
    links[2].click();
    expect(shownInS3).toEqual([`s3://${BUCKET}/${id}/report.parquet`]);
    // A run that recorded nothing has no lineage section.
    const old = await runRow(await row(), runId(8, 'failed'));
    expect(old.querySelector('.jp-smallfry-RunLineage')).toBeNull();
  });

  it("compares two checked runs, older first, or one with the job's notebook", async () => {
    const jobRow = await row();
    const check = (run: string) =>
      jobRow.querySelector<HTMLInputElement>(
        `.jp-smallfry-Run[data-run-id="${run}"] .jp-smallfry-CompareCheck`
      )!;
    const button = () =>
      jobRow.querySelector<HTMLButtonElement>('.jp-smallfry-Compare');
    expect(button()).toBeNull();
    check(runId(7, 'rerun')).click();
    await waitFor(() => button(), 'the compare button');
    expect(text(button())).toBe("Compare with the job's notebook");
    check(runId(9, 'running')).click();
    await waitFor(() => text(button()) === 'Compare', 'two runs checked');
    expect(check(runId(7, 'rerun')).checked).toBe(true);
    button()!.click();
    expect(compared).toEqual([
      { jobId: id, base: runId(7, 'rerun'), remote: runId(9, 'running') }
    ]);
    // A third check keeps the two newest checks.
    check(runId(8, 'failed')).click();
    await waitFor(() => !check(runId(7, 'rerun')).checked, 'one check dropped');
    button()!.click();
    expect(compared[1]).toEqual({
      jobId: id,
      base: runId(8, 'failed'),
      remote: runId(9, 'running')
    });
  });

  it('asks before reproducing, naming the inputs that changed or are gone', async () => {
    const jobRow = await row();
    const rerun = await runRow(jobRow, runId(7, 'rerun'));
    rerun.querySelector<HTMLButtonElement>('.jp-smallfry-Reproduce')!.click();
    let shown = await dialog();
    expect(text(shown.querySelector('.jp-Dialog-header'))).toBe(
      `Reproduce run ${runId(7, 'rerun')}?`
    );
    const body = shown.querySelector('.jp-smallfry-ReproduceInputs')!;
    expect(text(body.querySelector('.jp-smallfry-Warning'))).toBe(
      '2 of the 2 objects it read changed since: the result may differ.'
    );
    const listed = Array.from(
      body.querySelectorAll<HTMLElement>('.jp-smallfry-ReproduceInput')
    );
    expect(listed.map(li => li.dataset.state)).toEqual(['missing', 'changed']);
    expect(text(listed[0])).toBe(`s3://${BUCKET}/${id}/gone.csv is gone`);
    expect(text(listed[1])).toMatch(
      new RegExp(
        `^s3://${BUCKET}/${id}/sales\\.csv changed \\(ETag not-what-it-is-now → \\S+\\)$`
      )
    );
    // Cancel: nothing runs.
    const posts = requested.filter(r => r.startsWith('POST')).length;
    shown.querySelector<HTMLButtonElement>('.jp-mod-reject')!.click();
    await waitFor(() => !document.querySelector('.jp-Dialog'), 'no dialog');
    expect(requested.filter(r => r.startsWith('POST')).length).toBe(posts);

    // Go on: the run's snapshot runs again.
    rerun.querySelector<HTMLButtonElement>('.jp-smallfry-Reproduce')!.click();
    shown = await dialog();
    const go = shown.querySelector<HTMLButtonElement>('.jp-mod-warn')!;
    expect(text(go)).toBe('Reproduce anyway');
    go.click();
    await waitFor(
      () => requested.includes(`POST jobs/${id}/run`),
      'the reproduce request'
    );
    await waitFor(
      () =>
        shownRuns(jobRow).length === 3 &&
        !shownRuns(jobRow).includes(runId(7, 'rerun')),
      'the new run on top'
    );
    expect(panel.model.runsOf(id)[0]).toMatchObject({
      triggered_by: 'reproduce',
      parameters: { region: 'US', days: 3, dry_run: false }
    });
  });

  it('runs again with the same or other parameters, typed, prefilled from the run', async () => {
    const jobRow = await row();
    // Runs started by the tests before are newer: show every run.
    await showAll();
    const failed = await runRow(jobRow, runId(8, 'failed'));
    failed
      .querySelector<HTMLButtonElement>('.jp-smallfry-RunWithParameters')!
      .click();
    let shown = await dialog();
    const field = (name: string) =>
      shown.querySelector<HTMLInputElement>(`[name="parameters.${name}"]`)!;
    // The fields render (React) after the dialog's title.
    await waitFor(() => field('region'), 'the parameter fields');
    expect(field('region').value).toBe('Atlantis');
    expect(field('days').type).toBe('number');
    expect(field('days').value).toBe('1');
    expect(field('dry_run').value).toBe('false');
    enter(field('region'), 'EU');
    enter(field('days'), '');
    shown.querySelector<HTMLButtonElement>('.jp-mod-accept')!.click();
    // Refused here: asked again, with the problem on its field.
    await waitFor(
      () =>
        document.querySelector(
          '.jp-Dialog .jp-smallfry-FieldError[data-field="parameters.days"]'
        ),
      'the problem with days'
    );
    shown = await dialog();
    expect(
      text(
        shown.querySelector(
          '.jp-smallfry-FieldError[data-field="parameters.days"]'
        )
      )
    ).toBe('must be a whole number');
    expect(field('region').value).toBe('EU');
    enter(field('days'), '2');
    shown.querySelector<HTMLButtonElement>('.jp-mod-accept')!.click();
    await waitFor(() => !document.querySelector('.jp-Dialog'), 'no dialog');
    const started = await waitFor(
      () =>
        panel.model
          .runsOf(id)
          .find(
            r =>
              r.triggered_by === 'parameters' && r.run_id !== runId(8, 'failed')
          ),
      'the run with other parameters'
    );
    expect(started.parameters).toEqual({
      region: 'EU',
      days: 2,
      dry_run: false
    });

    // The same parameters as a past run.
    const rerun = await runRow(jobRow, runId(7, 'rerun'));
    rerun.querySelector<HTMLButtonElement>('.jp-smallfry-Rerun')!.click();
    const again = await waitFor(
      () =>
        panel.model
          .runsOf(id)
          .find(
            r => r.triggered_by === 'rerun' && r.run_id !== runId(7, 'rerun')
          ),
      'the re-run'
    );
    expect(again.parameters).toEqual({ region: 'US', days: 3, dry_run: false });
  });
});
