/**
 * A team's day on the platform `smallfry-platform` starts, end to end in
 * Chromium: alice logs into JupyterHub through the identity provider, opens
 * her sales report from her S3 home, schedules it from the notebook toolbar,
 * presses "Run now" in the Jobs panel, and sees the run that Airflow's real
 * scheduler ran as her succeed; its executed notebook opens from the run.
 *
 * The platform (`platform_server.py`) is started by playwright.config.js and
 * is fresh on every run; it needs root, and the spec says so when it is not.
 */
import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

import {
  openS3Folder,
  s3Item,
  saveDocsScreenshot,
  saveScreenshot,
  selectors
} from './helpers';
import {
  deleteTeamJobIfAny,
  listJobs,
  loginThroughHub,
  openTeamS3Panel,
  PLATFORM_HUB,
  PLATFORM_USER,
  platformUnavailable,
  runNow,
  TEAM_BUCKET
} from './platform-helpers';
import {
  formField,
  jobRow,
  saveRegionScreenshot,
  scheduleForm,
  scheduleSelectors as sel,
  widenLeftSidebar
} from './schedule-helpers';

const USER = PLATFORM_USER;
const NOTEBOOK = 'sales-report.ipynb';
const JOB_ID = 'team-sales';
const TITLE = 'Sales report for APAC';
const REGION = 'APAC';

/** Queued in Airflow, picked up by the scheduler, papermill in a kernel as alice. */
const RUN_TIMEOUT = 180 * 1000;

/** The data the platform seeds `data/sales.csv` with, to know what the run prints. */
const SALES_CSV = path.join(
  __dirname,
  '../../server-ext/jupyterlab_smallfry/embedded/demo/data/sales.csv'
);

test.use({
  // Galata's helpers behind the Hub's prefix: `page.goto()` opens /user/ui-alice/lab.
  baseURL: `${PLATFORM_HUB}/user/${USER}`,
  autoGoto: false,
  // JupyterLab shows the identity the Hub gave alice, not Galata's made-up user.
  mockUser: false
});

test.describe('The team platform', () => {
  test.skip(!!platformUnavailable(), platformUnavailable());

  test('alice logs in through the Hub, schedules her report and sees Airflow run it', async ({
    page
  }) => {
    test.setTimeout(240 * 1000);
    const [header, ...rows] = fs
      .readFileSync(SALES_CSV, 'utf-8')
      .trim()
      .split(/\r?\n/)
      .map(line => line.split(','));
    const selected = rows.filter(
      row =>
        row[header.indexOf('region')] === REGION &&
        Number(row[header.indexOf('amount')]) >= 100
    );
    expect(selected.length, 'the seeded data has APAC orders').toBeGreaterThan(
      0
    );

    // 1. Log in: the Hub's page, the identity provider's form, back to the Hub.
    await loginThroughHub(page.page, USER, () =>
      saveScreenshot(page, 'team-hub-login.png')
    );
    // Now in alice's JupyterLab; Galata's page helpers take over from here.
    await page.goto();
    await expect(page).toHaveURL(new RegExp(`/user/${USER}/lab`));
    await deleteTeamJobIfAny(page, JOB_ID);

    // 2. Her S3 home, and the report in it.
    await openTeamS3Panel(page);
    await openS3Folder(page, `${TEAM_BUCKET}/home/${USER}`);
    await s3Item(page, NOTEBOOK).locator(selectors.itemText).dblclick();
    const notebookTab = page
      .getByRole('main')
      .getByRole('tab', { name: NOTEBOOK, exact: true });
    await expect(notebookTab).toHaveClass(/jp-mod-current/);
    // Her kernel starts in her server, as her Unix account.
    await expect(
      page.locator('#jp-main-statusbar').getByText('Idle')
    ).toBeVisible({ timeout: 60000 });
    // The kernel's language_info marks the notebook changed: save it, so the
    // job runs what she sees (the form warns otherwise).
    await page.keyboard.press('Control+s');
    await expect(notebookTab).not.toHaveClass(/jp-mod-dirty/);
    await saveDocsScreenshot(page, 'team-s3-browser.png');

    // 3. The schedule form, from the notebook toolbar.
    await page.locator(sel.toolbarButton).click();
    const form = scheduleForm(page);
    await expect(form).toBeVisible();
    await expect(form.getByRole('heading')).toContainText(NOTEBOOK);
    await expect(formField(page, 'parameters.region')).toHaveValue('EMEA');
    await formField(page, 'id').fill(JOB_ID);
    await formField(page, 'title').fill(TITLE);
    await formField(page, 'parameters.region').fill(REGION);
    await formField(page, 'parameters.bucket').fill(TEAM_BUCKET);
    await form.locator('input[name="schedule.type"][value="manual"]').check();
    await expect(form.locator(sel.fieldError)).toHaveCount(0);
    await expect(form.locator(sel.warning)).toHaveCount(0);
    await page.setViewportSize({ width: 1280, height: 1400 });
    await form.evaluate(node => node.scrollTo(0, 0));
    await saveRegionScreenshot(
      page,
      {
        within: form.locator('.jp-smallfry-ScheduleForm'),
        from: form.getByRole('heading'),
        to: form.locator('fieldset.jp-smallfry-Schedule')
      },
      'team-schedule-dialog.png'
    );

    // 4. Schedule: the Hub service writes and signs the spec; Airflow gets the DAG.
    await form.locator(sel.scheduleButton).click();
    await expect(form).toHaveCount(0);
    const panel = page.locator(sel.jobsPanel);
    await expect(panel).toBeVisible();
    const job = jobRow(page, JOB_ID);
    await expect(job).toContainText(TITLE);
    await expect(job.locator(sel.jobSchedule)).toHaveText(
      'Runs only when started by hand'
    );

    // 5. Run now: the service triggers the DAG; Airflow's scheduler runs it as alice.
    await runNow(page, job, JOB_ID);
    const run = job.locator(sel.run).first();
    await expect(run).toHaveAttribute(
      'data-status',
      /^(queued|running|success)$/
    );
    await expect(run, 'the Airflow run succeeds').toHaveAttribute(
      'data-status',
      'success',
      { timeout: RUN_TIMEOUT }
    );
    await expect(run.locator(sel.runError)).toHaveCount(0);
    await expect(job.locator(sel.run), 'one press, one run').toHaveCount(1);
    await expect(run.locator('.jp-smallfry-RunStatus')).toHaveText('success');
    await widenLeftSidebar(page, 160);
    await saveRegionScreenshot(
      page,
      { within: panel, from: panel.locator('h3'), to: job },
      'team-jobs-panel.png'
    );

    // What the panel shows came from Airflow, and the notebook ran as alice's role.
    const listed = await (await listJobs(page)).json();
    const shown = listed.jobs.find(
      (j: { spec: { id: string } }) => j.spec.id === JOB_ID
    );
    const runId = await run.getAttribute('data-run-id');
    const manifest = shown.runs.find(
      (r: { run_id: string }) => r.run_id === runId
    );
    expect(manifest.trigger, 'Airflow ran it').toBe('airflow');
    expect(manifest.aws_identity.arn).toMatch(
      new RegExp(`:assumed-role/nb-${USER}/${USER}$`)
    );

    // 6. The executed notebook opens from the run, with the APAC figures.
    await run.locator(sel.runOutput).click();
    const output = page.locator(sel.currentNotebook);
    await expect(page.activity.getTabLocator('output.ipynb')).toHaveClass(
      /jp-mod-current/
    );
    await expect(
      output.locator('.jp-OutputArea-output', {
        hasText: `${REGION}: ${selected.length} orders of at least 100.00`
      })
    ).toBeVisible();
  });
});
