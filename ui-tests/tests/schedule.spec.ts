/**
 * Scheduling a notebook from S3 on the embedded demo, as a user does it:
 * open the demo's sales report, fill the schedule form (cron, time zone, a
 * parameter), schedule it, "Run now" it from the Jobs panel, and open the
 * executed notebook. Papermill really runs on the server, so the run takes
 * a while on a small CI machine.
 *
 * Job specs are files that outlive the server; the spec deletes its job
 * before and after, so it passes again against the same server.
 */
import { expect, test } from '@jupyterlab/galata';
import {
  DEMO_ROOT,
  getS3Object,
  openS3Folder,
  openS3Panel,
  s3Item,
  selectors
} from './helpers';
import {
  deleteJobIfAny,
  fieldError,
  formField,
  jobExists,
  jobRow,
  scheduleForm,
  saveRegionScreenshot,
  scheduleSelectors as sel,
  showJobsPanel,
  widenLeftSidebar
} from './schedule-helpers';

const NOTEBOOK = 'sales-report.ipynb';
const JOB_ID = 'ui-test-sales-report';
const CRON = '0 6 * * 1-5';
const CRON_WORDS = 'At 06:00, Monday through Friday';
const TIMEZONE = 'Europe/Amsterdam';
const REGION = 'APAC';
const MIN_AMOUNT = 250;

/** A run of the notebook: papermill starts a kernel and runs four cells. */
const RUN_TIMEOUT = 240 * 1000;

/** Wall time of an instant in a time zone: weekday (1-7, Monday = 1) and HH:MM. */
function wallTime(
  utc: string,
  timeZone: string
): { day: number; time: string } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23'
  }).formatToParts(new Date(utc));
  const part = (type: string) => parts.find(p => p.type === type)?.value ?? '';
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  return {
    day: days.indexOf(part('weekday')) + 1,
    time: `${part('hour')}:${part('minute')}`
  };
}

test.describe('Scheduling a notebook on the embedded demo', () => {
  test.beforeEach(async ({ page }) => {
    await deleteJobIfAny(page, JOB_ID);
  });

  test.afterEach(async ({ page }) => {
    await deleteJobIfAny(page, JOB_ID);
  });

  test('offers "Schedule Notebook…" in the S3 context menu and the command palette', async ({
    page
  }) => {
    await openS3Panel(page);
    await openS3Folder(page, `${DEMO_ROOT}/notebooks`);
    await s3Item(page, NOTEBOOK)
      .locator(selectors.itemText)
      .click({ button: 'right' });
    await expect(
      page
        .locator(selectors.menu)
        .getByRole('menuitem', { name: 'Schedule Notebook…' })
    ).toBeVisible();
    await page.keyboard.press('Escape');

    await page.keyboard.press('Control+Shift+C');
    const palette = page.locator('#command-palette');
    await expect(palette).toBeVisible();
    await palette.locator('.lm-CommandPalette-input').fill('Schedule Notebook');
    await expect(
      palette.locator('.lm-CommandPalette-item', {
        hasText: 'Schedule Notebook…'
      })
    ).toBeVisible();
  });

  test('schedules a notebook from S3, runs it now and opens the executed output', async ({
    page
  }) => {
    test.setTimeout(RUN_TIMEOUT + 120 * 1000);

    // The data the notebook summarises, to know what the run must print.
    const csv = await (await getS3Object(page, 'data/sales.csv')).text();
    const [header, ...lines] = csv.trim().split(/\r?\n/);
    const columns = header.split(',');
    const selected = lines
      .map(line => line.split(','))
      .filter(
        row =>
          row[columns.indexOf('region')] === REGION &&
          Number(row[columns.indexOf('amount')]) >= MIN_AMOUNT
      );
    expect(
      selected.length,
      'the demo data has matching orders'
    ).toBeGreaterThan(0);
    const expectedLine = `${REGION}: ${selected.length} orders of at least ${MIN_AMOUNT.toFixed(2)}`;

    // 1. Open the demo notebook from the S3 browser.
    await openS3Panel(page);
    await openS3Folder(page, `${DEMO_ROOT}/notebooks`);
    await s3Item(page, NOTEBOOK).locator(selectors.itemText).dblclick();
    // Exact: the form's tab ("Schedule <notebook>") contains the name too.
    const notebookTab = page
      .getByRole('main')
      .getByRole('tab', { name: NOTEBOOK, exact: true });
    await expect(notebookTab).toHaveClass(/jp-mod-current/);
    await expect(
      page.locator('#jp-main-statusbar').getByText('Idle')
    ).toBeVisible({ timeout: 60000 });
    // An unsaved edit, so the form has something to warn about.
    await page.notebook.addCell('markdown', 'Scheduled by the UI test.');
    await expect(notebookTab).toHaveClass(/jp-mod-dirty/);

    // 2. Open the schedule form from the notebook toolbar.
    const button = page.locator(sel.toolbarButton);
    await expect(button).toBeVisible();
    await button.click();
    const form = scheduleForm(page);
    await expect(form).toBeVisible();
    // The form is the current tab and has the focus: typing goes to it.
    const formTab = page.activity.getTabLocator(`Schedule ${NOTEBOOK}`);
    await expect(formTab).toHaveClass(/jp-mod-current/);
    await expect(formField(page, 'id')).toBeFocused();
    await expect(form.getByRole('heading')).toContainText(NOTEBOOK);
    await expect(form.locator(sel.warning)).toHaveText([/unsaved changes/]);
    // Save the notebook with the form open: the warning goes away.
    await notebookTab.click();
    await page.keyboard.press('Control+s');
    await expect(notebookTab).not.toHaveClass(/jp-mod-dirty/);
    await formTab.click();
    // A saved notebook with a kernel and a parameters cell: nothing to warn about.
    await expect(form.locator(sel.warning)).toHaveCount(0);

    // The parameters cell of the notebook became the parameter form.
    for (const name of ['region', 'min_amount', 'report_date', 'bucket']) {
      await expect(formField(page, `parameters.${name}`)).toBeVisible();
    }
    await expect(formField(page, 'parameters.region')).toHaveValue('EMEA');

    // 3. Fill it in.
    await formField(page, 'id').fill(JOB_ID);
    await formField(page, 'title').fill('Daily APAC sales (UI test)');
    await formField(page, 'parameters.region').fill(REGION);
    await formField(page, 'parameters.min_amount').fill(String(MIN_AMOUNT));
    await formField(page, 'schedule.timezone').fill(TIMEZONE);

    // A cron that cannot be: the problem shows next to the field and blocks scheduling.
    const cron = formField(page, 'schedule.cron');
    await cron.fill('0 25 * * 1-5');
    const cronError = fieldError(page, 'schedule.cron');
    await expect(cronError).toBeVisible();
    await expect(cronError).toContainText(/hour/i);
    await expect(cron).toHaveAttribute('aria-invalid', 'true');
    await expect(
      form.locator(
        `.jp-smallfry-Field[data-field="schedule.cron"] ${sel.fieldError}`
      ),
      'the message is next to the cron field'
    ).toBeVisible();
    await expect(form.locator(sel.previewRun)).toHaveCount(0);
    await form.locator(sel.scheduleButton).click();
    await expect(form, 'the form stays open').toBeVisible();
    expect(await jobExists(page, JOB_ID), 'nothing was scheduled').toBe(false);

    // Fixed: the message goes, the words and the next five runs show.
    await cron.fill(CRON);
    await expect(cronError).toHaveCount(0);
    await expect(cron).toHaveAttribute('aria-invalid', 'false');
    await expect(form.locator(sel.previewDescription)).toHaveText(CRON_WORDS);
    const runs = form.locator(sel.previewRun);
    await expect(runs).toHaveCount(5);
    const utcs = await runs.evaluateAll(items =>
      items.map(item => item.getAttribute('data-utc') ?? '')
    );
    const texts = await runs.allTextContents();
    for (const [i, utc] of utcs.entries()) {
      const wall = wallTime(utc, TIMEZONE);
      expect(wall.time, `run ${utc} is at 06:00 in ${TIMEZONE}`).toBe('06:00');
      expect(wall.day, `run ${utc} is on a weekday`).toBeLessThanOrEqual(5);
      expect(texts[i], 'the run shows in the job’s time zone').toMatch(
        /^\d{4}-\d{2}-\d{2} 06:00/
      );
      if (i > 0) {
        expect(Date.parse(utc)).toBeGreaterThan(Date.parse(utcs[i - 1]));
      }
    }
    expect(Date.parse(utcs[0])).toBeGreaterThan(Date.now() - 60 * 1000);
    await expect(form.locator(sel.fieldError)).toHaveCount(0);
    // Tall enough to show the job, its parameters and the schedule at once.
    await page.setViewportSize({ width: 1280, height: 1400 });
    await form.evaluate(node => node.scrollTo(0, 0));
    await saveRegionScreenshot(
      page,
      {
        within: form.locator('.jp-smallfry-ScheduleForm'),
        from: form.getByRole('heading'),
        to: form.locator('fieldset.jp-smallfry-Schedule')
      },
      'schedule-dialog.png'
    );

    // 4. Schedule: the form closes and the Jobs panel shows the job.
    await form.locator(sel.scheduleButton).click();
    await expect(form).toHaveCount(0);
    await expect(
      page.locator(selectors.toast).filter({ hasText: `as job ${JOB_ID}` })
    ).toBeVisible();
    const panel = page.locator(sel.jobsPanel);
    await expect(panel).toBeVisible();
    const job = jobRow(page, JOB_ID);
    await expect(job).toBeVisible();
    await expect(job).toContainText('Daily APAC sales (UI test)');
    await expect(job.locator(sel.jobSchedule)).toHaveText(
      `${CRON_WORDS} (${TIMEZONE})`
    );
    expect(await jobExists(page, JOB_ID)).toBe(true);

    // 5. Run now; papermill runs the notebook on the server.
    await job.locator(sel.runNow).click();
    const run = job.locator(sel.run).first();
    await expect(run).toBeVisible();
    await expect(run).toHaveAttribute(
      'data-status',
      /^(queued|running|success)$/
    );
    await expect(run, 'the run succeeds').toHaveAttribute(
      'data-status',
      'success',
      { timeout: RUN_TIMEOUT }
    );
    await expect(run.locator(sel.runError)).toHaveCount(0);
    await expect(run).toContainText('output');
    // Wider than the default sidebar, so a job's buttons and runs fit a line.
    await widenLeftSidebar(page, 160);
    await saveRegionScreenshot(
      page,
      { within: panel, from: panel.locator('h3'), to: job },
      'jobs-panel.png'
    );

    // 6. Open the executed notebook.
    await run.locator(sel.runOutput).click();
    const outputTab = page.activity.getTabLocator('output.ipynb');
    await expect(outputTab).toHaveClass(/jp-mod-current/);
    const output = page.locator(sel.currentNotebook);
    // Papermill adds the injected parameters after the notebook's own cell.
    const injected = output.locator('.jp-Cell', {
      hasText: 'Parameters: papermill'
    });
    await expect(injected).toHaveCount(1);
    await expect(
      output.locator('.jp-Cell .jp-InputArea-editor', {
        hasText: `region = "${REGION}"`
      })
    ).toBeVisible();
    await expect(
      output.locator('.jp-OutputArea-output', { hasText: expectedLine })
    ).toBeVisible();
    await expect(
      output.locator('.jp-OutputArea-output', {
        hasText: `${lines.length} orders in the file`
      })
    ).toBeVisible();

    // Delete it as a user would: ask, confirm, gone.
    await showJobsPanel(page);
    await job.locator(sel.deleteJob).click();
    const confirm = page.locator(sel.dialog);
    await expect(confirm).toContainText(`Delete job ${JOB_ID}?`);
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect(job).toHaveCount(0);
    expect(await jobExists(page, JOB_ID)).toBe(false);
  });
});
