/**
 * The team platform of `platform_server.py` (JupyterHub, the Small Fry Hub
 * service, Airflow, moto, a test OpenID Connect provider): where it is, and
 * the selectors and user actions of its login pages, in one place. The S3
 * browser's and the schedule form's live in `helpers.ts` and
 * `schedule-helpers.ts`.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIResponse, Locator, Page } from '@playwright/test';

import { s3Item, s3Panel, selectors } from './helpers';
import { jobsUrl, scheduleSelectors } from './schedule-helpers';

/**
 * The platform's public (JupyterHub) URL. Playwright sets it from the line
 * `platform_server.py` prints when it is ready (`wait.stdout` in
 * playwright.config.js); set it yourself to reuse a platform started by hand.
 */
export const PLATFORM_HUB = process.env.SMALLFRY_PLATFORM_HUB ?? '';

/** The user `platform_server.py` creates (keep in sync with `USER` there). */
export const PLATFORM_USER = 'ui-alice';

/** The bucket the platform's moto holds; users' homes are `home/<user>/`. */
export const TEAM_BUCKET = 'team-lake';

/** Why the platform spec cannot run here, or '' when it can. */
export function platformUnavailable(): string {
  if (PLATFORM_HUB) {
    return '';
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return (
      'the team platform needs root (JupyterHub creates a Unix account per ' +
      'user and runs servers as it): run as root, or start ' +
      '`sudo python platform_server.py` and set SMALLFRY_PLATFORM_HUB'
    );
  }
  return (
    'the team platform is not running: run the whole suite or name ' +
    'tests/platform.spec.ts (playwright.config.js starts platform_server.py ' +
    'then), or set SMALLFRY_PLATFORM_HUB to a running one'
  );
}

/** DOM selectors of the Hub's and the test identity provider's pages. */
export const platformSelectors = {
  /** The Hub's "Sign in with OAuth 2.0" link (styled as a button). */
  hubSignIn: 'a.btn-jupyter[href*="oauth_login"]',
  /** The test IdP's login form: who to log in as. */
  idpSub: 'input[name="sub"]',
  idpForm: 'form:has(input[name="sub"])'
} as const;

/**
 * Log `user` in as a browser does: the Hub's login page, its sign-in
 * button, the identity provider's form, back to the Hub, which starts the
 * user's server and sends the browser to its JupyterLab. Plain Playwright
 * navigation: Galata's page helpers start once JupyterLab is there.
 *
 * @param onLoginPage - called on the Hub's login page (for a screenshot)
 */
export async function loginThroughHub(
  page: Page,
  user: string,
  onLoginPage?: () => Promise<void>
): Promise<void> {
  await page.goto(`${PLATFORM_HUB}/hub/login`);
  const signIn = page.locator(platformSelectors.hubSignIn);
  await expect(signIn, 'the Hub offers to sign in').toBeVisible();
  await onLoginPage?.();
  await signIn.click();
  const sub = page.locator(platformSelectors.idpSub);
  await expect(sub, 'the identity provider asks who logs in').toBeVisible();
  await sub.fill(user);
  // The form itself: the IdP also lists earlier users as buttons of their own.
  await page
    .locator(platformSelectors.idpForm)
    .getByRole('button', { name: 'Authorize' })
    .click();
  // The Hub spawns the server (a first spawn creates the Unix account and
  // starts JupyterLab as it), then its spawn-pending page moves on.
  await page.waitForURL(new RegExp(`/user/${user}/lab`), {
    timeout: 180 * 1000
  });
}

/**
 * Click the S3 tab and wait for the top level to list the team's bucket.
 */
export async function openTeamS3Panel(
  page: IJupyterLabPageFixture
): Promise<Locator> {
  const tab = page.locator(selectors.sidebarTab);
  await expect(tab, 'the S3 tab is in the left sidebar').toBeVisible();
  await tab.click();
  const panel = s3Panel(page);
  await expect(panel).toBeVisible();
  await expect(s3Item(page, TEAM_BUCKET)).toBeVisible();
  return panel;
}

/**
 * The `_xsrf` cookie JupyterLab sends back as a header on writes; the
 * servers behind the Hub check it (the demo server of the other specs
 * does not).
 */
async function xsrfHeader(
  page: IJupyterLabPageFixture
): Promise<Record<string, string>> {
  const cookies = await page.context().cookies();
  const xsrf = cookies.find(
    c => c.name === '_xsrf' && c.path.startsWith(`/user/${PLATFORM_USER}`)
  );
  return xsrf ? { 'X-XSRFToken': xsrf.value } : {};
}

/**
 * Delete job `id` through the jobs API if it exists, so the spec passes
 * again on a platform reused between runs (a fresh one has no jobs).
 */
export async function deleteTeamJobIfAny(
  page: IJupyterLabPageFixture,
  id: string
): Promise<void> {
  const answer = await page.request.delete(await jobsUrl(page, id), {
    headers: await xsrfHeader(page)
  });
  expect(
    [204, 404],
    `deleting job ${id} answered ${answer.status()}: ${await answer.text()}`
  ).toContain(answer.status());
}

/**
 * The user's jobs as the jobs API lists them (what the Jobs panel shows).
 */
export async function listJobs(
  page: IJupyterLabPageFixture
): Promise<APIResponse> {
  return page.request.get(await jobsUrl(page));
}

/**
 * Press "Run now" on `job` once and see the run start. Right after scheduling,
 * Airflow may not have parsed the new job yet; the Hub service waits for it
 * briefly, so the first press must start the run (no "try again").
 */
export async function runNow(
  page: IJupyterLabPageFixture,
  job: Locator,
  id: string
): Promise<void> {
  const started = page
    .locator(selectors.toast)
    .filter({ hasText: `Started a run of ${id}` });
  const button = job.locator(scheduleSelectors.runNow);
  await expect(button).toBeEnabled();
  const [answer] = await Promise.all([
    page.waitForResponse(
      r =>
        r.request().method() === 'POST' &&
        new URL(r.url()).pathname.endsWith(`/smallfry/jobs/${id}/run`),
      { timeout: 60 * 1000 }
    ),
    button.click()
  ]);
  expect(answer.status(), await answer.text()).toBe(202);
  await expect(started).toBeVisible();
}
