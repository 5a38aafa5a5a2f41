/**
 * Jobs people can live with, on the embedded demo (issue 12's "Done when"):
 * a two-job chain (the demo's `extract_sales.ipynb`, then
 * `report_sales.ipynb` scheduled to run after it), the extract's progress
 * watched in the Jobs panel while papermill runs it on the server, the
 * report starting by itself when the extract succeeds, a failing run's
 * notification received by a real local webhook receiver, two runs of the
 * extract with different parameters compared with nbdime, and the lineage
 * of a successful run opening the S3 browser on an object it wrote. The
 * three jobs are made in the schedule form (its After and Notifications
 * fields), the runs started from the Jobs panel; the REST API is only read,
 * to check what run.json recorded.
 *
 * The receiver (`python -m jupyterlab_smallfry.tests.notify_receiver`) is
 * started by playwright.config.js; the demo server knows it as the Airflow
 * connection `smallfry_notify_galata` (jupyter_server_test_config.py), so the
 * job spec names the connection and the webhook's URL stays on the server.
 *
 * Job specs and run folders outlive the server; the spec deletes its jobs,
 * their runs and the files the notebooks wrote, before and after, so it
 * passes again against the same server and leaves the demo bucket as the
 * other specs expect it.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  DEMO_BUCKET,
  DEMO_ROOT,
  openS3Folder,
  s3Item,
  s3Panel,
  saveDocsScreenshot,
  selectors
} from './helpers';
import {
  deleteJobsAndSnapshots,
  deleteRunsOf,
  deleteS3Prefix,
  getJob,
  getRun,
  historySelectors as hist,
  messagesMentioning,
  newRunId,
  progressCell,
  runNowFromPanel,
  runRow,
  saveNotificationScreenshot,
  shownRunIds
} from './jobs-history-helpers';
import {
  formField,
  jobRow,
  saveRegionScreenshot,
  scheduleForm,
  scheduleSelectors as sel,
  showJobsPanel,
  widenLeftSidebar
} from './schedule-helpers';

const EXTRACT = 'ui-extract-sales';
const REPORT = 'ui-report-sales';
const BROKEN = 'ui-extract-broken';
/** Dependents first: a job others run after cannot be deleted before them. */
const JOBS = [REPORT, EXTRACT, BROKEN];

const REPORT_DATE = '2026-11-23';
/** What the extract writes for a region, and the report reads. */
const extractKey = (region: string) =>
  `extracts/sales-by-product/${REPORT_DATE}/${region}.csv`;

/** The Airflow connection of the local webhook receiver. */
const NOTIFY_CONNECTION = 'smallfry_notify_galata';

/** A run of a demo notebook: a kernel starts, then the cells pause ~8 s. */
const RUN_TIMEOUT = 180 * 1000;

/**
 * A clean slate: no jobs of this spec, no snapshots, runs or files of them.
 */
async function cleanUp(page: IJupyterLabPageFixture) {
  await deleteJobsAndSnapshots(page, JOBS);
  await deleteRunsOf(page, JOBS);
  await deleteS3Prefix(page, 'extracts/sales-by-product/');
  await deleteS3Prefix(page, 'reports/sales-by-product/');
}

/**
 * Open demo notebook `name` from the S3 browser and its schedule form, as
 * a user does; answers the form.
 */
async function openScheduleForm(
  page: IJupyterLabPageFixture,
  name: string
): Promise<Locator> {
  const crumbs = s3Panel(page).locator(selectors.crumbs);
  if (!(await s3Panel(page).isVisible())) {
    await page.locator(selectors.sidebarTab).click();
  }
  const shown = (await crumbs.count())
    ? await crumbs.last().getAttribute('data-path')
    : null;
  if (!shown?.endsWith('/notebooks')) {
    // From the top level, as after a fresh start.
    await expect(s3Item(page, DEMO_ROOT)).toBeVisible();
    await openS3Folder(page, `${DEMO_ROOT}/notebooks`);
  }
  await s3Item(page, name).locator(selectors.itemText).dblclick();
  const tab = page.getByRole('main').getByRole('tab', { name, exact: true });
  await expect(tab).toHaveClass(/jp-mod-current/);
  const button = page.locator(sel.toolbarButton);
  await expect(button).toBeVisible();
  await button.click();
  const form = scheduleForm(page);
  await expect(form).toBeVisible();
  await expect(form.getByRole('heading')).toContainText(name);
  return form;
}

test.describe('Run history, chains, notifications, comparison and lineage on the embedded demo', () => {
  test.beforeEach(async ({ page }) => {
    await cleanUp(page);
  });

  test.afterEach(async ({ page }) => {
    await cleanUp(page);
  });

  test('a two-job chain: progress, upstream start, failure notification, compare, lineage', async ({
    page,
    browser
  }) => {
    test.setTimeout(12 * 60 * 1000);
    // Room for the schedule form and a job's runs; taller for the pictures.
    await page.setViewportSize({ width: 1400, height: 1100 });

    await test.step('schedule the extract, run by hand, from the schedule form', async () => {
      const form = await openScheduleForm(page, 'extract_sales.ipynb');
      await expect(formField(page, 'parameters.region')).toHaveValue('EMEA');
      await formField(page, 'id').fill(EXTRACT);
      await formField(page, 'title').fill('Extract sales by product (UI test)');
      await form.locator('input[name="schedule.type"][value="manual"]').check();
      await form.locator(sel.scheduleButton).click();
      await expect(form).toHaveCount(0);
      await expect(jobRow(page, EXTRACT)).toBeVisible();
    });

    await test.step('schedule the report to run after the extract, from the form', async () => {
      const form = await openScheduleForm(page, 'report_sales.ipynb');
      await formField(page, 'id').fill(REPORT);
      await formField(page, 'title').fill('Sales report (UI test)');
      // "After other jobs succeed": the same owner's jobs, one checkbox each.
      await form.locator('input[name="schedule.type"][value="after"]').check();
      await form.locator(`input[name="after"][value="${EXTRACT}"]`).check();
      await form.locator(sel.scheduleButton).click();
      await expect(form).toHaveCount(0);
      const report = jobRow(page, REPORT);
      await expect(report).toBeVisible();
      await expect(report.locator(hist.jobAfter)).toContainText(EXTRACT);
    });

    let extractRun = '';
    await test.step('Run now on the extract and watch its progress in the panel', async () => {
      const panel = await showJobsPanel(page);
      // Wide enough for a run's line, its progress and its output to read well.
      await widenLeftSidebar(page, 260);
      extractRun = await runNowFromPanel(page, EXTRACT);
      const run = runRow(page, EXTRACT, extractRun);
      // Every "cell i of n" the panel shows while the run goes, without reloading.
      const seen = new Set<number>();
      const tails: string[] = [];
      await expect
        .poll(
          async () => {
            const progress = run.locator(hist.runProgress);
            if (await progress.isVisible()) {
              const cell = progressCell(await progress.textContent());
              if (cell !== null) {
                seen.add(cell);
              }
              const tail = run.locator(hist.runOutputTail);
              if (await tail.isVisible()) {
                tails.push((await tail.textContent()) ?? '');
              }
            }
            return seen.size >= 2
              ? 'moving'
              : await run.getAttribute('data-status');
          },
          {
            message: 'the panel shows the run move from cell to cell',
            timeout: RUN_TIMEOUT,
            intervals: [250]
          }
        )
        .toBe('moving');
      // The run under way, as the README shows it.
      await saveRegionScreenshot(
        page,
        { within: panel, from: jobRow(page, EXTRACT), to: run },
        'jobs-progress.png'
      );
      await expect(run.locator(hist.runProgress)).toHaveText(
        /cell \d+ of \d+/i
      );
      await expect(run, 'the extract succeeds').toHaveAttribute(
        'data-status',
        'success',
        { timeout: RUN_TIMEOUT }
      );
      expect(
        tails.join('\n'),
        'the last lines of output showed while it ran'
      ).toMatch(/EMEA: Europe|orders up to|orders\s+[\d,.]+/);
      const { run: manifest } = await getRun(page, EXTRACT, extractRun);
      expect(manifest.triggered_by).toBe('run_now');
      expect(manifest.status).toBe('success');
    });

    let reportRun = '';
    await test.step('the report starts by itself after the extract and succeeds', async () => {
      reportRun = await newRunId(page, REPORT, new Set());
      const run = runRow(page, REPORT, reportRun);
      await expect(run, 'the report succeeds').toHaveAttribute(
        'data-status',
        'success',
        { timeout: RUN_TIMEOUT }
      );
      const { run: manifest } = await getRun(page, REPORT, reportRun);
      expect(manifest.triggered_by).toBe('upstream');
      expect(manifest.upstream).toEqual([
        { job_id: EXTRACT, run_id: extractRun }
      ]);
    });

    await test.step('a failing run notifies the webhook receiver', async () => {
      // The same extract with a region the data does not have fails in its
      // first cell; the form names the receiver's Airflow connection.
      const form = await openScheduleForm(page, 'extract_sales.ipynb');
      await formField(page, 'id').fill(BROKEN);
      await formField(page, 'title').fill(
        'Extract an unknown region (UI test, fails)'
      );
      await formField(page, 'parameters.region').fill('MARS');
      await formField(page, 'parameters.pause').fill('0');
      await form.locator('input[name="schedule.type"][value="manual"]').check();
      const onFailure = form.locator(
        '.jp-smallfry-Destinations[data-event="on_failure"]'
      );
      await onFailure.scrollIntoViewIfNeeded();
      await onFailure.locator('.jp-smallfry-AddDestination').click();
      await formField(page, 'notifications.on_failure.0.type').selectOption(
        'webhook'
      );
      await formField(page, 'notifications.on_failure.0.via').selectOption(
        'connection'
      );
      await formField(page, 'notifications.on_failure.0').fill(
        NOTIFY_CONNECTION
      );
      await form.locator(sel.scheduleButton).click();
      await expect(form).toHaveCount(0);
      const stored = await getJob(page, BROKEN);
      expect(stored.notifications).toEqual({
        on_failure: [{ type: 'webhook', connection: NOTIFY_CONNECTION }]
      });
      await expect(jobRow(page, BROKEN)).toBeVisible();
      const brokenRun = await runNowFromPanel(page, BROKEN);
      const run = runRow(page, BROKEN, brokenRun);
      await expect(run, 'the run fails').toHaveAttribute(
        'data-status',
        'failed',
        { timeout: RUN_TIMEOUT }
      );
      await expect(run.locator(hist.runError)).toContainText(
        "Unknown region 'MARS'"
      );

      // run.json is final once the notification went: exactly one message
      // for this run, naming the job, the run and the error.
      await expect
        .poll(() => messagesMentioning(brokenRun).length, {
          message: 'the receiver got the failure notification',
          timeout: 30000
        })
        .toBe(1);
      const [message] = messagesMentioning(brokenRun);
      // A generic JSON webhook: the receiver's record of the POST and its body.
      expect(message).toMatchObject({
        kind: 'http',
        method: 'POST',
        path: '/hooks/galata',
        body: {
          event: 'run.failed',
          job: { id: BROKEN },
          run: { id: brokenRun, status: 'failed' }
        }
      });
      expect(JSON.stringify(message.body)).toContain("Unknown region 'MARS'");
      const { run: manifest } = await getRun(page, BROKEN, brokenRun);
      expect(manifest.notifications).toEqual([
        expect.objectContaining({
          event: 'failure',
          type: 'webhook',
          target: NOTIFY_CONNECTION,
          ok: true
        })
      ]);
      // The webhook's URL is the server's secret: not in run.json, not on the page.
      const port = process.env.SMALLFRY_UI_NOTIFY_HTTP_PORT ?? '8885';
      expect(JSON.stringify(manifest)).not.toContain(`127.0.0.1:${port}`);
      await expect(page.locator(sel.jobsPanel)).not.toContainText('/hooks/');
      await saveNotificationScreenshot(
        browser,
        message.body,
        `The failure notification of run ${brokenRun}: the JSON body of the ` +
          `POST /hooks/galata the local webhook receiver got (a generic JSON ` +
          `webhook, Airflow connection ${NOTIFY_CONNECTION}), verbatim.`,
        'notification.png'
      );
    });

    let apacRun = '';
    await test.step('run the extract again with other parameters', async () => {
      await showJobsPanel(page);
      const before = new Set(await shownRunIds(page, EXTRACT));
      await runRow(page, EXTRACT, extractRun)
        .locator(hist.runWithParameters)
        .click();
      // A dialog with the typed parameter fields, filled with that run's values.
      const dialog = page.locator(sel.dialog);
      await expect(dialog.locator(hist.runParametersForm)).toBeVisible();
      const region = dialog.locator('[name="parameters.region"]');
      await expect(region).toHaveValue('EMEA');
      await region.fill('APAC');
      await dialog.getByRole('button', { name: 'Run', exact: true }).click();
      await expect(dialog).toHaveCount(0);
      apacRun = await newRunId(page, EXTRACT, before);
      await expect(
        runRow(page, EXTRACT, apacRun),
        'the APAC extract succeeds'
      ).toHaveAttribute('data-status', 'success', { timeout: RUN_TIMEOUT });
      const { run: manifest } = await getRun(page, EXTRACT, apacRun);
      expect(manifest.parameters?.region).toBe('APAC');
      expect(manifest.triggered_by).toBe('parameters');

      // A new success of the extract starts the report once more.
      const again = await newRunId(page, REPORT, new Set([reportRun]));
      await expect(
        runRow(page, REPORT, again),
        'the report runs again after the new extract'
      ).toHaveAttribute('data-status', 'success', { timeout: RUN_TIMEOUT });
      const { run: chained } = await getRun(page, REPORT, again);
      expect(chained.upstream).toEqual([{ job_id: EXTRACT, run_id: apacRun }]);
    });

    await test.step('compare the two runs of the extract with nbdime', async () => {
      await showJobsPanel(page);
      const job = jobRow(page, EXTRACT);
      await runRow(page, EXTRACT, extractRun)
        .locator(hist.compareCheck)
        .check();
      await runRow(page, EXTRACT, apacRun).locator(hist.compareCheck).check();
      await job.locator(hist.compare).click();
      const view = page.locator(hist.compareView);
      await expect(view).toBeVisible({ timeout: 30000 });
      // The parameters side by side: region changed, EMEA → APAC.
      const region = view.locator(
        `${hist.compareParameters} tr[data-key="region"]`
      );
      await expect(region).toHaveAttribute('data-state', 'changed');
      await expect(region).toContainText('EMEA');
      await expect(region).toContainText('APAC');
      // nbdime's own diff of the notebooks: the outputs differ by region.
      const diff = view.locator(hist.nbdimeDiff);
      await expect(diff).toBeVisible({ timeout: 30000 });
      await expect(diff).toContainText('Asia-Pacific');
      // For the picture: the whole width, only the cells that changed.
      await page.locator(sel.jobsTab).click();
      await expect(page.locator(sel.jobsPanel)).toBeHidden();
      await view.locator(hist.compareHideUnchanged).check();
      await expect(diff).toContainText('Asia-Pacific');
      await page.setViewportSize({ width: 1400, height: 1800 });
      await saveDocsScreenshot(view, 'compare.png');
    });

    await test.step('the lineage of the successful run links into the S3 browser', async () => {
      const panel = await showJobsPanel(page);
      const run = runRow(page, EXTRACT, extractRun);
      const lineage = run.locator(hist.runLineage);
      // "Data: 2 read, 1 written", a summary that unfolds the objects.
      await expect(lineage).toBeVisible();
      await expect(lineage.locator('summary')).toContainText('read');
      await lineage.locator('summary').click();
      await expect(lineage.locator(hist.lineageLink).first()).toBeVisible();
      const uris = await lineage
        .locator(hist.lineageLink)
        .evaluateAll(links => links.map(link => link.getAttribute('data-uri')));
      expect(uris).toEqual(
        expect.arrayContaining([
          `s3://${DEMO_BUCKET}/data/regions.json`,
          `s3://${DEMO_BUCKET}/data/sales.csv`,
          `s3://${DEMO_BUCKET}/${extractKey('EMEA')}`
        ])
      );
      // The three jobs at once: the failure, the extract's two runs (lineage
      // open), the report its runs started.
      await page.setViewportSize({ width: 1400, height: 2000 });
      await saveRegionScreenshot(
        page,
        {
          within: panel,
          from: panel.locator('h3').first(),
          to: panel.locator(sel.job).last()
        },
        'jobs-history.png'
      );

      const written = lineage.locator(
        `${hist.lineageLink}[data-uri="s3://${DEMO_BUCKET}/${extractKey('EMEA')}"]`
      );
      await written.click();
      await expect(s3Panel(page)).toBeVisible();
      await expect(
        s3Panel(page).locator(selectors.crumbs).last()
      ).toHaveAttribute(
        'data-path',
        new RegExp(`extracts/sales-by-product/${REPORT_DATE}$`)
      );
      await expect(s3Item(page, 'EMEA.csv')).toBeVisible();
    });
  });
});
