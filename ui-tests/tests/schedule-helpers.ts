/**
 * Selectors and user actions of scheduling (the schedule form and the Jobs
 * panel), in one place, so a change in the extension's DOM is fixed here and
 * not in every spec. The S3 browser's live in `helpers.ts`.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import * as path from 'path';

import { DOCS_DIR, SCREENSHOT_DIR, UPDATE_DOCS } from './helpers';

/** DOM selectors of the schedule form and the Jobs panel. */
export const scheduleSelectors = {
  /** The notebook toolbar button that opens the schedule form. */
  toolbarButton:
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar [data-command="smallfry:schedule"]',
  /** The schedule form (a main-area widget). */
  form: '.jp-smallfry-ScheduleDialog',
  /** A pre-flight warning at the top of the form; `data-kind` says which. */
  warning: '.jp-smallfry-Warning',
  /** A problem shown next to its field; `data-field` is the spec path. */
  fieldError: '.jp-smallfry-FieldError',
  /** The schedule in words. */
  previewDescription: '.jp-smallfry-PreviewDescription',
  /** One upcoming run of the preview; `data-utc` is its time in UTC. */
  previewRun: '.jp-smallfry-PreviewRun',
  /** The form's submit button. */
  scheduleButton: '.jp-smallfry-ScheduleButton',
  /** The Jobs panel in the left sidebar. */
  jobsPanel: '#smallfry-jobs-panel',
  /** The sidebar tab of the Jobs panel. */
  jobsTab: '.jp-SideBar .lm-TabBar-tab[data-id="smallfry-jobs-panel"]',
  /** One job; `data-job-id` is its id. */
  job: '.jp-smallfry-Job',
  /** A job's schedule in words, with its time zone. */
  jobSchedule: '.jp-smallfry-JobSchedule',
  runNow: '.jp-smallfry-RunNow',
  deleteJob: '.jp-smallfry-Delete',
  /** One run of a job; `data-status` is queued, running, success or failed. */
  run: '.jp-smallfry-Run',
  /** The link that opens a run's executed notebook. */
  runOutput: '.jp-smallfry-RunOutput',
  /** A run's error, when it failed. */
  runError: '.jp-smallfry-RunError',
  /** The notebook shown in the main area. */
  currentNotebook: '.jp-NotebookPanel:not(.lm-mod-hidden)',
  /** A modal JupyterLab dialog (the delete confirmation). */
  dialog: '.jp-Dialog'
} as const;

/**
 * The open schedule form.
 */
export function scheduleForm(page: IJupyterLabPageFixture): Locator {
  return page.locator(scheduleSelectors.form);
}

/**
 * The input (or select) of the schedule form that edits the spec path
 * `name` (`id`, `schedule.cron`, `parameters.region`…).
 */
export function formField(page: IJupyterLabPageFixture, name: string): Locator {
  return scheduleForm(page).locator(`[name="${name}"]`);
}

/**
 * The problem shown next to the field of spec path `field`.
 */
export function fieldError(
  page: IJupyterLabPageFixture,
  field: string
): Locator {
  return scheduleForm(page).locator(
    `${scheduleSelectors.fieldError}[data-field="${field}"]`
  );
}

/**
 * The row of job `id` in the Jobs panel.
 */
export function jobRow(page: IJupyterLabPageFixture, id: string): Locator {
  return page.locator(
    `${scheduleSelectors.jobsPanel} ${scheduleSelectors.job}[data-job-id="${id}"]`
  );
}

/**
 * The URL of the jobs REST API (`/smallfry/jobs[/<id>]`) of the server
 * the page talks to.
 */
export async function jobsUrl(
  page: IJupyterLabPageFixture,
  id?: string
): Promise<string> {
  const baseUrl = await page.evaluate(() => {
    const data = document.getElementById('jupyter-config-data');
    return JSON.parse(data?.textContent ?? '{}').baseUrl ?? '/';
  });
  const path = id ? `smallfry/jobs/${encodeURIComponent(id)}` : 'smallfry/jobs';
  return new URL(`${baseUrl}${path}`, page.url()).toString();
}

/**
 * Delete job `id` through the REST API if it exists, so a spec starts from
 * and leaves a clean slate (job specs outlive the server: they are files).
 */
export async function deleteJobIfAny(
  page: IJupyterLabPageFixture,
  id: string
): Promise<void> {
  const answer = await page.request.delete(await jobsUrl(page, id));
  expect(
    [204, 404],
    `deleting job ${id} answered ${answer.status()}`
  ).toContain(answer.status());
}

/**
 * Whether the server has job `id`.
 */
export async function jobExists(
  page: IJupyterLabPageFixture,
  id: string
): Promise<boolean> {
  const answer = await page.request.get(await jobsUrl(page, id));
  return answer.ok();
}

/**
 * Show the Jobs panel (clicking its sidebar tab when it is hidden: a click on
 * the tab of the panel already shown collapses the sidebar).
 */
export async function showJobsPanel(
  page: IJupyterLabPageFixture
): Promise<Locator> {
  const panel = page.locator(scheduleSelectors.jobsPanel);
  if (!(await panel.isVisible())) {
    await page.locator(scheduleSelectors.jobsTab).click();
  }
  await expect(panel).toBeVisible();
  return panel;
}

/**
 * Screenshot the part of the page that spans `from` to `to` (top of the
 * first to bottom of the second, the width of `within`), readable in a
 * README: the view and not the whole window. Saved to `screenshots/<name>`
 * and, with `SMALLFRY_DOCS_SCREENSHOTS=1`, to `docs/<name>` too.
 */
export async function saveRegionScreenshot(
  page: IJupyterLabPageFixture,
  region: { within: Locator; from: Locator; to: Locator },
  name: string
): Promise<void> {
  const [within, from, to] = await Promise.all([
    region.within.boundingBox(),
    region.from.boundingBox(),
    region.to.boundingBox()
  ]);
  if (!within || !from || !to) {
    throw new Error(`${name}: the region to screenshot is not shown`);
  }
  const margin = 8;
  const y = Math.max(within.y, from.y - margin);
  const clip = {
    x: within.x,
    y,
    width: within.width,
    height: Math.min(to.y + to.height + margin, within.y + within.height) - y
  };
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name), clip });
  if (UPDATE_DOCS) {
    await page.screenshot({ path: path.join(DOCS_DIR, name), clip });
  }
}

/**
 * Drag the handle between the left sidebar and the main area `by` pixels to
 * the right, as a user widens the sidebar.
 */
export async function widenLeftSidebar(
  page: IJupyterLabPageFixture,
  by: number
): Promise<void> {
  const handle = page
    .locator('#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)')
    .first();
  const box = await handle.boundingBox();
  if (!box) {
    throw new Error('the left sidebar has no handle to drag');
  }
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + by, y, { steps: 5 });
  await page.mouse.up();
}
