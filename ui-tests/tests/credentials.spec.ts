/**
 * The AWS credentials status bar item and its details panel, in each state,
 * against real servers (credential_servers.py): moto's STS behind a
 * credential_process, a server with no AWS credentials, an unreachable
 * credential broker, and a real JupyterHub that refuses the server's token.
 *
 * `expiring` and `expired` are computed by the browser from the expiry, so
 * they are reached by moving the browser's clock (Playwright's `page.clock`),
 * not by waiting an hour.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  credentialFact,
  credentialSelectors,
  credentialServers,
  credentialStatus,
  expectCredentialState,
  openCredentialPanel,
  saveDocsScreenshot,
  saveScreenshot,
  saveStatusScreenshot,
  selectors
} from './helpers';

const ARN = 'arn:aws:sts::123456789012:assumed-role/analyst/alice';
const WHO = 'AWS: alice @ 123456789012 (analyst)';

// Crisp screenshots for the README; the layout is the same.
test.use({ autoGoto: false, deviceScaleFactor: 2 });

test.describe('signed in: ambient keys from a credential_process (moto STS)', () => {
  test.use({ baseURL: credentialServers.ok });

  test('shows who and for how long; the panel has the details; Refresh now refreshes', async ({
    page
  }) => {
    await page.goto();
    const item = credentialStatus(page);
    await expectCredentialState(page, 'ok');
    // One-hour session: "59 min" (or "1 h 00 min" in the very first second).
    await expect(item).toHaveText(
      new RegExp(`^${escape(WHO)} · (5\\d min|1 h 00 min)$`)
    );
    await expect(item).toHaveAttribute('title', /Signed in/);
    await saveStatusScreenshot(page, item, 'credentials-ok.png');

    const panel = await openCredentialPanel(page);
    await expect(panel.locator(credentialSelectors.panelState)).toHaveText(
      /^Signed in · (5\d min|1 h 00 min) left$/
    );
    await expect(credentialFact(page, 'Identity ARN')).toHaveText(ARN);
    await expect(credentialFact(page, 'Account')).toHaveText('123456789012');
    await expect(credentialFact(page, 'Role')).toHaveText('analyst');
    await expect(credentialFact(page, 'Session name')).toHaveText('alice');
    await expect(credentialFact(page, 'Expires')).toHaveText(
      /\((5\d min|1 h 00 min)\)$/
    );
    await expect(credentialFact(page, 'Mode')).toHaveText(
      'Server credentials (ambient)'
    );
    // The panel asks STS live, through the server's gateway, with these keys.
    await expect(panel.locator(credentialSelectors.live)).toHaveText(
      `AWS STS confirms: ${ARN}`
    );
    await expect(panel.locator(credentialSelectors.message)).toHaveCount(0);
    // "Check with AWS" asks STS again.
    const [sts] = await Promise.all([
      page.waitForResponse(r => r.url().includes('/smallfry/aws/sts')),
      panel.locator(credentialSelectors.action('check-identity')).click()
    ]);
    expect(sts.status()).toBe(200);
    await expect(panel.locator(credentialSelectors.live)).toHaveText(
      `AWS STS confirms: ${ARN}`
    );
    await saveDocsScreenshot(
      panel.locator('.jp-smallfry-CredPanel-body'),
      'credentials-panel.png'
    );

    // Refresh now. The real refresh takes milliseconds; to see the brief
    // 'refreshing' state, the real POST is held until the test has looked at
    // it, then passed on to the server unchanged (a delay, not a mock).
    const lastRefresh = await credentialFact(
      page,
      'Last refresh'
    ).textContent();
    let release!: () => void;
    const held = new Promise<void>(resolve => (release = resolve));
    // (The front end adds a cache-busting query, so match on the path.)
    const isRefresh = (url: URL): boolean =>
      url.pathname.endsWith('/smallfry/credentials/refresh');
    await page.route(isRefresh, async route => {
      await held;
      await route.continue();
    });
    const refresh = panel.locator(credentialSelectors.action('refresh'));
    await expect(refresh).toHaveText('Refresh now');
    await refresh.click();
    await expectCredentialState(page, 'refreshing');
    await expect(item).toHaveText('AWS: refreshing…');
    await expect(refresh).toHaveText('Refreshing…');
    await expect(refresh).toBeDisabled();
    await saveStatusScreenshot(page, item, 'credentials-refreshing.png');
    release();
    await expectCredentialState(page, 'ok');
    await expect(refresh).toBeEnabled();
    await expect(item).toHaveText(new RegExp(`^${escape(WHO)} · `));
    await expect(credentialFact(page, 'Last refresh')).not.toHaveText(
      lastRefresh ?? ''
    );
    await page.unroute(isRefresh);
  });

  test('turns to expiring 10 minutes before the expiry, then to expired', async ({
    page
  }) => {
    // The browser's clock runs naturally from now until it is moved forward.
    await page.clock.install();
    await page.goto();
    const item = credentialStatus(page);
    await expectCredentialState(page, 'ok');
    const status = await (
      await page.request.get(`${credentialServers.ok}/smallfry/credentials`)
    ).json();
    const expiry = Date.parse(status.expiration);
    const now = await page.evaluate(() => Date.now());

    await page.clock.fastForward(expiry - now - 5 * 60 * 1000 + 1000);
    await expectCredentialState(page, 'expiring');
    await expect(item).toHaveText(new RegExp(`^${escape(WHO)} · [45] min$`));
    await saveStatusScreenshot(page, item, 'credentials-expiring.png');
    const panel = await openCredentialPanel(page);
    await expect(panel.locator(credentialSelectors.panelState)).toHaveText(
      /^Expiring soon · [45] min left$/
    );
    await saveScreenshot(panel, 'credentials-panel-expiring.png');

    await page.clock.fastForward(6 * 60 * 1000);
    await expectCredentialState(page, 'expired');
    await expect(item).toHaveText('AWS: expired');
    await expect(panel.locator(credentialSelectors.panelState)).toHaveText(
      'Expired'
    );
    await expect(credentialFact(page, 'Expires')).toHaveText(/\(expired\)$/);
    await saveStatusScreenshot(page, item, 'credentials-expired.png');
    await saveScreenshot(panel, 'credentials-panel-expired.png');
  });
});

test.describe('not configured: no AWS credentials on the server', () => {
  test.use({ baseURL: credentialServers.notConfigured });

  test('says so, and the panel says how to configure them', async ({
    page
  }) => {
    await page.goto();
    const item = credentialStatus(page);
    await expectCredentialState(page, 'not-configured');
    await expect(item).toHaveText('AWS: not configured');
    await saveStatusScreenshot(page, item, 'credentials-not-configured.png');

    const panel = await openCredentialPanel(page);
    await expect(panel.locator(credentialSelectors.panelState)).toHaveText(
      'Not configured'
    );
    await expect(panel.locator(credentialSelectors.message)).toHaveText(
      /^No AWS credentials were found on the server/
    );
    await expect(panel.locator(credentialSelectors.hint)).toContainText(
      "c.SmallFry.credentials_mode to 'web-identity' or 'broker'"
    );
    await expect(panel.locator(credentialSelectors.code)).toHaveText(
      'Error code: no-credentials'
    );
    // No keys, so nothing that expires (not "never").
    await expect(credentialFact(page, 'Expires')).toHaveCount(0);
    await saveScreenshot(panel, 'credentials-panel-not-configured.png');

    // The panel also opens from the keyboard and with the public command.
    const tab = page.locator(credentialSelectors.panelTab);
    const close = async (): Promise<void> => {
      await tab.locator('.lm-TabBar-tabCloseIcon').click();
      await expect(panel).toHaveCount(0);
    };
    await close();
    await item.focus();
    await page.keyboard.press('Enter');
    await expect(panel).toBeVisible();
    await close();
    await page.evaluate(() =>
      (window as any).jupyterapp.commands.execute('smallfry:show-credentials')
    );
    await expect(panel).toBeVisible();

    // The S3 browser cannot list without keys; its error offers the panel.
    await close();
    await page.locator(selectors.sidebarTab).click();
    const toast = page
      .locator(selectors.toast, {
        hasText: 'Could not open the list of S3 locations'
      })
      .first();
    await expect(toast).toContainText('no usable AWS credentials');
    await toast.getByRole('button', { name: 'AWS credentials' }).click();
    await expect(panel).toBeVisible();
  });
});

test.describe('error: the credential broker cannot be reached', () => {
  test.use({ baseURL: credentialServers.error });

  test('shows the error, what happened and who can fix it', async ({
    page
  }) => {
    await page.goto();
    const item = credentialStatus(page);
    // The server retries an unreachable broker with backoff (about 6 s).
    await expectCredentialState(page, 'error', { timeout: 30000 });
    await expect(item).toHaveText('AWS: error');
    await expect(item).toHaveAttribute(
      'title',
      /^Error: The Small Fry credential broker on the Hub could not be reached\./
    );
    await saveStatusScreenshot(page, item, 'credentials-error.png');

    const panel = await openCredentialPanel(page);
    await expect(panel.locator(credentialSelectors.message)).toHaveText(
      'The Small Fry credential broker on the Hub could not be reached.'
    );
    await expect(panel.locator(credentialSelectors.hint)).toContainText(
      "check that the 'smallfry-broker' service is running"
    );
    await expect(panel.locator(credentialSelectors.code)).toHaveText(
      'Error code: broker-unreachable'
    );
    // No keys, so nothing that expires (not "never").
    await expect(credentialFact(page, 'Expires')).toHaveCount(0);
    await expect(credentialFact(page, 'Mode')).toHaveText(
      'Credential broker on the Hub'
    );
    await expect(panel.locator(credentialSelectors.live)).toHaveText(
      /^AWS STS could not confirm who you are: /,
      { timeout: 30000 }
    );
    await saveDocsScreenshot(
      panel.locator('.jp-smallfry-CredPanel-body'),
      'credentials-panel-error.png'
    );
  });
});

test.describe('needs login: the JupyterHub no longer knows the server token', () => {
  test.use({ baseURL: credentialServers.needsLogin });

  test('asks to log in again, with a link to the Hub login page', async ({
    page
  }) => {
    await page.goto();
    const item = credentialStatus(page);
    await expectCredentialState(page, 'needs-login');
    await expect(item).toHaveText('AWS: log in again · log in');
    const hubLogin = `${credentialServers.hub}/hub/login?next=%2Fuser%2Falice%2F`;
    await expect(
      item.locator(credentialSelectors.action('login'))
    ).toHaveAttribute('href', hubLogin);
    await saveStatusScreenshot(page, item, 'credentials-needs-login.png');

    const panel = await openCredentialPanel(page);
    await expect(panel.locator(credentialSelectors.panelState)).toHaveText(
      'Log in again'
    );
    await expect(panel.locator(credentialSelectors.message)).toHaveText(
      "The Hub no longer accepts this server's token."
    );
    await expect(panel.locator(credentialSelectors.code)).toHaveText(
      'Error code: hub-refused'
    );
    // No keys, so nothing that expires (not "never").
    await expect(credentialFact(page, 'Expires')).toHaveCount(0);
    const login = panel.locator(credentialSelectors.action('login'));
    await expect(login).toHaveText('Log in to JupyterHub again');
    await saveScreenshot(panel, 'credentials-panel-needs-login.png');

    // The link leads to the Hub's own login form.
    await login.click();
    await expect(page).toHaveURL(hubLogin);
    await expect(page.locator('#username_input')).toBeVisible();
  });
});

/** `text` as a literal inside a RegExp. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
