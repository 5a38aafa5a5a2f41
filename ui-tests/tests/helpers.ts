/**
 * Selectors and user actions of the S3 browser, in one place, so a change in
 * the extension's DOM is fixed here and not in every spec.
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIResponse, Locator } from '@playwright/test';
import * as path from 'path';

/** The bucket the embedded demo server seeds. */
export const DEMO_BUCKET = 'smallfry-demo';

/** The pinned root of the demo bucket at the top level of the S3 browser. */
export const DEMO_ROOT = 'Demo bucket';

/** Where the specs write their screenshots (not compared, kept for people). */
export const SCREENSHOT_DIR = path.join(__dirname, '..', 'screenshots');

/** DOM selectors of the S3 browser (JupyterLab's file browser, themed). */
export const selectors = {
  /** The S3 browser widget in the left sidebar (its Lumino id). */
  panel: '#smallfry-s3-browser',
  /** The sidebar tab that shows the S3 browser. */
  sidebarTab:
    '.jp-SideBar .lm-TabBar-tab[data-id="smallfry-s3-browser"]',
  /** One row of the listing. */
  item: '.jp-DirListing-item',
  /** The name cell of a row. */
  itemText: '.jp-DirListing-itemText',
  /** The clickable path segments above the listing. */
  crumbs: '.jp-BreadCrumbs-item',
  /** The toolbar at the top of a file browser (not the filter bar). */
  toolbar: 'jp-toolbar.jp-SidePanel-toolbar',
  /** The local (default) file browser, for comparison. */
  localBrowser: '#filebrowser',
  /** The "Upload Files" button of the stock file browser toolbar. */
  uploadButton: '.jp-Toolbar-item[data-jp-item-name="uploader"] jp-button',
  /** The "more than one page" banner the extension adds above the listing. */
  banner: '.jp-smallfry-ListingBanner',
  /** An open context menu. */
  menu: '.lm-Menu',
  /** A toast notification. */
  toast: '.Toastify__toast'
} as const;

/**
 * The S3 browser panel.
 */
export function s3Panel(page: IJupyterLabPageFixture): Locator {
  return page.locator(selectors.panel);
}

/**
 * The listing row whose name is exactly `name`.
 */
export function s3Item(page: IJupyterLabPageFixture, name: string): Locator {
  return s3Panel(page)
    .locator(selectors.item)
    .filter({
      has: page.locator(selectors.itemText).getByText(name, { exact: true })
    });
}

/**
 * The names in the listing, in the order shown.
 */
export function s3ItemNames(page: IJupyterLabPageFixture): Locator {
  return s3Panel(page).locator(`${selectors.item} ${selectors.itemText}`);
}

/**
 * Click the S3 tab in the left sidebar and wait for the top level to show
 * the demo bucket.
 */
export async function openS3Panel(page: IJupyterLabPageFixture): Promise<Locator> {
  const tab = page.locator(selectors.sidebarTab);
  await expect(tab, 'the S3 tab is in the left sidebar').toBeVisible();
  await tab.click();
  const panel = s3Panel(page);
  await expect(panel).toBeVisible();
  await expect(s3Item(page, DEMO_ROOT)).toBeVisible();
  return panel;
}

/**
 * Open a folder of the S3 browser by double-clicking each segment of
 * `folder`, as a user would.
 *
 * @param folder - path relative to the folder shown now, e.g.
 *   "Demo bucket/notebooks" from the top level
 */
export async function openS3Folder(
  page: IJupyterLabPageFixture,
  folder: string
): Promise<void> {
  const crumbs = s3Panel(page).locator(selectors.crumbs);
  // The last breadcrumb is the folder shown now; there is none at the top level.
  let current =
    (await crumbs.count()) > 0
      ? (await crumbs.last().getAttribute('data-path')) ?? ''
      : '';
  for (const segment of folder.split('/')) {
    current = current ? `${current}/${segment}` : segment;
    const row = s3Item(page, segment);
    await expect(row, `"${segment}" is listed`).toBeVisible();
    await expect(row).toHaveAttribute('data-isdir', 'true');
    await row.locator(selectors.itemText).dblclick();
    // The breadcrumbs end with the folder once the browser has moved there.
    await expect(crumbs.last()).toHaveAttribute('data-path', current);
  }
}

/**
 * The URL of an object of the demo bucket behind the server's AWS gateway.
 */
export async function gatewayUrl(
  page: IJupyterLabPageFixture,
  key: string
): Promise<string> {
  const baseUrl = await page.evaluate(() => {
    const data = document.getElementById('jupyter-config-data');
    return JSON.parse(data?.textContent ?? '{}').baseUrl ?? '/';
  });
  const encodedKey = key.split('/').map(encodeURIComponent).join('/');
  return new URL(
    `${baseUrl}smallfry/aws/s3/${DEMO_BUCKET}/${encodedKey}`,
    page.url()
  ).toString();
}

/**
 * GET an object of the demo bucket straight from S3 through the gateway,
 * bypassing the front end's S3 drive.
 */
export async function getS3Object(
  page: IJupyterLabPageFixture,
  key: string
): Promise<APIResponse> {
  return page.request.get(await gatewayUrl(page, key));
}

/**
 * Save a screenshot for people to look at (never compared pixel by pixel:
 * Debian's Chromium renders differently from Playwright's own build).
 */
export async function saveScreenshot(
  target: IJupyterLabPageFixture | Locator,
  name: string
): Promise<void> {
  await target.screenshot({ path: path.join(SCREENSHOT_DIR, name) });
}

/**
 * The servers of `credential_servers.py`, one per state of the AWS
 * credentials widget (keep the ports in sync with `PORTS` there).
 */
export const credentialServers = {
  /** ambient keys from a credential_process: moto STS AssumeRole, 1 h. */
  ok: 'http://127.0.0.1:8890',
  /** ambient mode on a server with no AWS credentials at all. */
  notConfigured: 'http://127.0.0.1:8891',
  /** broker mode with the broker unreachable. */
  error: 'http://127.0.0.1:8892',
  /** web-identity mode; the real JupyterHub refuses the server's token. */
  needsLogin: 'http://127.0.0.1:8893',
  /** The JupyterHub the needs-login server belongs to. */
  hub: 'http://127.0.0.1:8894'
} as const;

/** DOM selectors of the AWS credentials widget (src/credentials). */
export const credentialSelectors = {
  /** The status bar item; its state is `data-smallfry-state`. */
  status: '.jp-smallfry-CredStatus',
  /** The details panel (its MainAreaWidget has the id below). */
  panel: '.jp-smallfry-CredPanel',
  panelWidget: '#smallfry-credentials',
  /** The panel's tab in the main area. */
  panelTab: '.lm-TabBar-tab[data-id="smallfry-credentials"]',
  /** The state line at the top of the panel. */
  panelState: '.jp-smallfry-CredPanel-state',
  /** What went wrong, how to fix it, and the stable error code. */
  message: '.jp-smallfry-CredPanel-message',
  hint: '.jp-smallfry-CredPanel-hint',
  code: '.jp-smallfry-CredPanel-code',
  /** The result of the live STS GetCallerIdentity check. */
  live: '.jp-smallfry-CredPanel-live',
  /** The fact table (Identity ARN, Account, Role, Expires, ...). */
  table: '.jp-smallfry-CredPanel-table',
  /** Buttons and links by what they do. */
  action: (name: 'refresh' | 'check-identity' | 'copy-profile' | 'choose-role' | 'login') =>
    `[data-smallfry-action="${name}"]`
} as const;

/**
 * The credentials item in the status bar.
 */
export function credentialStatus(page: IJupyterLabPageFixture): Locator {
  return page.locator(credentialSelectors.status);
}

/**
 * The credentials details panel.
 */
export function credentialPanel(page: IJupyterLabPageFixture): Locator {
  return page.locator(credentialSelectors.panel);
}

/**
 * The value cell of the panel's fact table row named `name` ("Account").
 */
export function credentialFact(
  page: IJupyterLabPageFixture,
  name: string
): Locator {
  return credentialPanel(page)
    .locator(`${credentialSelectors.table} tr`)
    .filter({ has: page.locator('th', { hasText: name }) })
    .locator('td');
}

/**
 * Wait until the status bar item shows `state` (class and attribute agree).
 */
export async function expectCredentialState(
  page: IJupyterLabPageFixture,
  state: string,
  options: { timeout?: number } = {}
): Promise<void> {
  const item = credentialStatus(page);
  await expect(item).toHaveAttribute('data-smallfry-state', state, options);
  await expect(item).toHaveClass(
    new RegExp(`(^|\\s)jp-smallfry-CredStatus-${state}(\\s|$)`)
  );
}

/**
 * Open the details panel by clicking the status bar item, as a user would.
 */
export async function openCredentialPanel(
  page: IJupyterLabPageFixture
): Promise<Locator> {
  await credentialStatus(page).click();
  const panel = credentialPanel(page);
  await expect(page.locator(credentialSelectors.panelWidget)).toBeVisible();
  await expect(panel).toBeVisible();
  return panel;
}

/** Committed screenshots the README shows. */
export const DOCS_DIR = path.join(__dirname, '..', 'docs');

/**
 * Whether this run refreshes the committed screenshots in `docs/`
 * (`SMALLFRY_DOCS_SCREENSHOTS=1`); otherwise runs never touch tracked files.
 */
export const UPDATE_DOCS = process.env.SMALLFRY_DOCS_SCREENSHOTS === '1';

/**
 * Save a screenshot to `screenshots/<name>` and, when `docs` is set and
 * this run updates them, to `docs/<name>` too.
 */
export async function saveDocsScreenshot(
  target: IJupyterLabPageFixture | Locator,
  name: string,
  docs = true
): Promise<void> {
  await saveScreenshot(target, name);
  if (docs && UPDATE_DOCS) {
    await target.screenshot({ path: path.join(DOCS_DIR, name) });
  }
}

/**
 * Screenshot the status bar around `item` (readable: the item and a little
 * of the bar, not the whole window), like `saveDocsScreenshot`.
 */
export async function saveStatusScreenshot(
  page: IJupyterLabPageFixture,
  item: Locator,
  name: string,
  docs = true
): Promise<void> {
  const box = await item.boundingBox();
  const bar = await page.locator('#jp-main-statusbar').boundingBox();
  if (!box || !bar) {
    throw new Error('the status bar item is not shown');
  }
  const x = Math.max(bar.x, box.x - 8);
  const clip = {
    x,
    y: bar.y,
    width: Math.min(box.x + box.width + 8, bar.x + bar.width) - x,
    height: bar.height
  };
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name), clip });
  if (docs && UPDATE_DOCS) {
    await page.screenshot({ path: path.join(DOCS_DIR, name), clip });
  }
}
