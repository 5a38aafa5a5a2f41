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
