/**
 * Selectors and actions of the Jobs panel's run history (progress, lineage,
 * re-runs, comparison), the REST calls the jobs history spec makes, the
 * demo bucket's clean-up and the local notification receiver's messages, in
 * one place. The schedule form's and the panel's basics live in
 * `schedule-helpers.ts`.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Browser, Locator } from '@playwright/test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import {
  DEMO_BUCKET,
  DOCS_DIR,
  gatewayUrl,
  SCREENSHOT_DIR,
  UPDATE_DOCS
} from './helpers';
import { jobRow, jobsUrl, scheduleSelectors } from './schedule-helpers';

/** DOM selectors of the run history (as src/schedule/history.tsx documents them). */
export const historySelectors = {
  /** One run; `data-status` and `data-run-id`. */
  run: '.jp-smallfry-Run',
  /** A running run's progress, "cell i of n". */
  runProgress: '.jp-smallfry-RunProgress',
  /** The last lines of a running run's output. */
  runOutputTail: '.jp-smallfry-RunOutputTail',
  /** A failed run's error (cell, message, traceback). */
  runError: '.jp-smallfry-RunError',
  /** The S3 objects a run read and wrote. */
  runLineage: '.jp-smallfry-RunLineage',
  /** One object of the lineage; `data-uri` is its s3:// URI. */
  lineageLink: 'a.jp-smallfry-LineageLink',
  /** The status filter of a job's runs (a select). */
  runFilter: '.jp-smallfry-RunFilter',
  /** "More runs". */
  runsMore: '.jp-smallfry-RunsMore',
  rerun: '.jp-smallfry-Rerun',
  runWithParameters: '.jp-smallfry-RunWithParameters',
  reproduce: '.jp-smallfry-Reproduce',
  /** The body of the "Other parameters…" dialog. */
  runParametersForm: '.jp-smallfry-RunParametersForm',
  /** The checkbox that picks a run for comparison. */
  compareCheck: '.jp-smallfry-CompareCheck',
  /** The button that compares the two runs picked. */
  compare: '.jp-smallfry-Compare',
  /** The jobs a job runs after, in its row. */
  jobAfter: '.jp-smallfry-JobAfter',
  /** The comparison in the main area, and its parameters table (rows `tr[data-key][data-state]`). */
  compareView: '.jp-smallfry-Compare-view',
  compareParameters: '.jp-smallfry-CompareParameters',
  /** "Hide unchanged cells" of the comparison. */
  compareHideUnchanged: '.jp-smallfry-CompareHideUnchanged',
  /** nbdime's notebook diff widget inside the comparison. */
  nbdimeDiff: '.jp-smallfry-CompareNotebook .jp-Notebook-diff'
} as const;

/** "cell 3 of 6" → 3 (the progress text's cell number), else null. */
export function progressCell(text: string | null): number | null {
  const match = /cell\s+(\d+)\s+of\s+(\d+)/i.exec(text ?? '');
  return match ? Number(match[1]) : null;
}

/**
 * Run `runId` of job `jobId` in the Jobs panel.
 */
export function runRow(
  page: IJupyterLabPageFixture,
  jobId: string,
  runId: string
): Locator {
  return jobRow(page, jobId).locator(
    `${historySelectors.run}[data-run-id="${runId}"]`
  );
}

/**
 * The runs of job `jobId` shown in the panel.
 */
export function runRows(page: IJupyterLabPageFixture, jobId: string): Locator {
  return jobRow(page, jobId).locator(historySelectors.run);
}

/**
 * The run ids shown for job `jobId`, top to bottom.
 */
export async function shownRunIds(
  page: IJupyterLabPageFixture,
  jobId: string
): Promise<string[]> {
  return runRows(page, jobId).evaluateAll(rows =>
    rows.map(row => row.getAttribute('data-run-id') ?? '')
  );
}

/**
 * Headers of a state-changing REST call: the page's `_xsrf` cookie echoed,
 * as JupyterLab's own requests do (Galata's server does not check it; a
 * real one does).
 */
async function xsrfHeaders(
  page: IJupyterLabPageFixture
): Promise<Record<string, string>> {
  const cookies = await page.context().cookies(page.url());
  const xsrf = cookies.find(cookie => cookie.name === '_xsrf');
  return xsrf ? { 'X-XSRFToken': decodeURIComponent(xsrf.value) } : {};
}

/** A job spec as the REST API takes it (see jobspec.schema.json). */
export type JobSpec = Record<string, unknown> & { id: string };

/** The parts of a run's `run.json` the spec checks. */
export interface IRunManifest {
  run_id: string;
  status: string;
  triggered_by?: string;
  upstream?: { job_id: string; run_id: string }[];
  parameters?: Record<string, unknown>;
  notifications?: Record<string, unknown>[];
  lineage?: { reads: unknown[]; writes: unknown[]; truncated: boolean };
}

/**
 * The stored spec of job `id` (`GET /smallfry/jobs/<id>`).
 */
export async function getJob(
  page: IJupyterLabPageFixture,
  id: string
): Promise<JobSpec> {
  const answer = await page.request.get(await jobsUrl(page, id));
  expect(answer.status(), `GET job ${id}: ${await answer.text()}`).toBe(200);
  return (await answer.json()).spec;
}

/**
 * Delete jobs `ids` if they exist, in the order given (a job others run
 * after cannot go first: list dependents before their upstream).
 */
export async function deleteJobsIfAny(
  page: IJupyterLabPageFixture,
  ids: string[]
): Promise<void> {
  for (const id of ids) {
    const answer = await page.request.delete(await jobsUrl(page, id), {
      headers: await xsrfHeaders(page)
    });
    expect(
      [204, 404],
      `deleting job ${id} answered ${answer.status()}: ${await answer.text()}`
    ).toContain(answer.status());
  }
}

/**
 * The notebook snapshots (`s3://` URIs) the jobs of the server use now.
 */
export async function snapshotsInUse(
  page: IJupyterLabPageFixture
): Promise<Set<string>> {
  const answer = await page.request.get(await jobsUrl(page));
  expect(answer.ok(), `GET jobs: ${await answer.text()}`).toBe(true);
  const jobs: { spec: { notebook?: { uri?: string } } }[] = (
    await answer.json()
  ).jobs;
  return new Set(jobs.map(job => job.spec.notebook?.uri ?? ''));
}

/**
 * Delete jobs `ids` (dependents first) and the notebook snapshots they ran
 * that no other job uses: a snapshot is kept by content, in the demo
 * bucket's `snapshots/`, and outlives its job.
 */
export async function deleteJobsAndSnapshots(
  page: IJupyterLabPageFixture,
  ids: string[]
): Promise<void> {
  const theirs = new Set<string>();
  for (const id of ids) {
    const answer = await page.request.get(await jobsUrl(page, id));
    if (answer.ok()) {
      const uri = (await answer.json()).spec?.notebook?.uri;
      if (uri) {
        theirs.add(uri);
      }
    }
  }
  await deleteJobsIfAny(page, ids);
  const inUse = await snapshotsInUse(page);
  const prefix = `s3://${DEMO_BUCKET}/`;
  for (const uri of theirs) {
    if (!inUse.has(uri) && uri.startsWith(prefix)) {
      await deleteS3Prefix(page, uri.slice(prefix.length));
    }
  }
}

/** A run's `run.json`, as the server answers `GET …/runs/<run_id>`. */
export async function getRun(
  page: IJupyterLabPageFixture,
  jobId: string,
  runId: string
): Promise<{ run: IRunManifest; progress: Record<string, unknown> | null }> {
  const url = `${await jobsUrl(page, jobId)}/runs/${encodeURIComponent(runId)}`;
  const answer = await page.request.get(url);
  expect(answer.status(), `GET ${url}: ${await answer.text()}`).toBe(200);
  return answer.json();
}

/**
 * Delete every object of the demo bucket under `prefix`, through the
 * server's S3 gateway (the runs and files the spec's jobs wrote), so the
 * bucket is as the next spec expects it.
 */
export async function deleteS3Prefix(
  page: IJupyterLabPageFixture,
  prefix: string
): Promise<void> {
  const bucketUrl = (await gatewayUrl(page, 'x')).replace(/\/x$/, '');
  const headers = await xsrfHeaders(page);
  for (;;) {
    const listing = await page.request.get(
      `${bucketUrl}?list-type=2&prefix=${encodeURIComponent(prefix)}`
    );
    expect(listing.ok(), `listing ${prefix}`).toBe(true);
    const keys = [
      ...(await listing.text()).matchAll(/<Key>([^<]+)<\/Key>/g)
    ].map(match => decodeXml(match[1]));
    if (keys.length === 0) {
      return;
    }
    for (const key of keys) {
      const answer = await page.request.delete(await gatewayUrl(page, key), {
        headers
      });
      expect(answer.ok(), `deleting s3://${DEMO_BUCKET}/${key}`).toBe(true);
    }
  }
}

/**
 * The folders right under `prefix` in the demo bucket (S3's common
 * prefixes), e.g. the owners' folders under `runs/`.
 */
export async function listS3Folders(
  page: IJupyterLabPageFixture,
  prefix: string
): Promise<string[]> {
  const bucketUrl = (await gatewayUrl(page, 'x')).replace(/\/x$/, '');
  const listing = await page.request.get(
    `${bucketUrl}?list-type=2&delimiter=%2F&prefix=${encodeURIComponent(prefix)}`
  );
  expect(listing.ok(), `listing ${prefix}`).toBe(true);
  return [
    ...(await listing.text()).matchAll(
      /<CommonPrefixes>\s*<Prefix>([^<]+)<\/Prefix>/g
    )
  ].map(match => decodeXml(match[1]));
}

/**
 * Delete the runs of jobs `jobIds` (every owner's) from the demo bucket's
 * `runs/` folder: run folders outlive a deleted job, and a job made again
 * with the same id would show them.
 */
export async function deleteRunsOf(
  page: IJupyterLabPageFixture,
  jobIds: string[]
): Promise<void> {
  for (const owner of await listS3Folders(page, 'runs/')) {
    for (const id of jobIds) {
      await deleteS3Prefix(page, `${owner}${id}/`);
    }
  }
}

function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * The JSON-lines file the notification receiver appends to (set by
 * playwright.config.js; the default matches it).
 */
export const NOTIFICATIONS_FILE =
  process.env.SMALLFRY_UI_NOTIFY_OUT ||
  path.join(os.tmpdir(), 'smallfry-ui-notifications.jsonl');

/** One message the receiver got (its own record: channel, path, body…). */
export type ReceivedMessage = Record<string, unknown>;

/**
 * Every message the receiver has written so far (the file outlives a run
 * when the receiver is reused: pick messages by run id).
 */
export function receivedMessages(): ReceivedMessage[] {
  if (!fs.existsSync(NOTIFICATIONS_FILE)) {
    return [];
  }
  return fs
    .readFileSync(NOTIFICATIONS_FILE, 'utf-8')
    .split('\n')
    .filter(line => line.trim())
    .map(line => JSON.parse(line));
}

/**
 * The received messages whose content mentions `text` (a run id).
 */
export function messagesMentioning(text: string): ReceivedMessage[] {
  return receivedMessages().filter(message =>
    JSON.stringify(message).includes(text)
  );
}

/**
 * Show what the receiver got as a small page of its own and screenshot it:
 * `content` verbatim as indented JSON, under a caption saying what it is.
 * Saved like the other README images.
 */
export async function saveNotificationScreenshot(
  browser: Browser,
  content: unknown,
  caption: string,
  name: string
): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  try {
    const escape = (text: string) =>
      text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    await page.setContent(`<!doctype html>
<html><body style="font-family: sans-serif; margin: 16px; background: #fff; color: #222">
<div id="card" style="display: inline-block; max-width: 860px; border: 1px solid #ccc; border-radius: 6px; padding: 12px 16px">
<div style="font-size: 13px; color: #555; margin-bottom: 8px">${escape(caption)}</div>
<pre style="font-size: 12px; white-space: pre-wrap; word-break: break-word; margin: 0">${escape(
      JSON.stringify(content, null, 2)
    )}</pre></div></body></html>`);
    const card = page.locator('#card');
    await card.screenshot({ path: path.join(SCREENSHOT_DIR, name) });
    if (UPDATE_DOCS) {
      await card.screenshot({ path: path.join(DOCS_DIR, name) });
    }
  } finally {
    await page.close();
  }
}

/**
 * Click "Run now" on job `jobId` and answer the id of the run it started:
 * the run the panel shows that was not there before.
 */
export async function runNowFromPanel(
  page: IJupyterLabPageFixture,
  jobId: string
): Promise<string> {
  const before = new Set(await shownRunIds(page, jobId));
  await jobRow(page, jobId).locator(scheduleSelectors.runNow).click();
  return newRunId(page, jobId, before);
}

/**
 * Wait until job `jobId` shows a run not in `before`, and answer its id.
 */
export async function newRunId(
  page: IJupyterLabPageFixture,
  jobId: string,
  before: Set<string>
): Promise<string> {
  let runId = '';
  await expect
    .poll(
      async () => {
        const fresh = (await shownRunIds(page, jobId)).filter(
          id => id && !before.has(id)
        );
        runId = fresh[0] ?? '';
        return runId;
      },
      { message: `a new run of ${jobId} shows in the panel`, timeout: 60000 }
    )
    .not.toBe('');
  return runId;
}
