/**
 * The table preview on the embedded demo: double-click the demo's Parquet
 * (`sales/year=2025/part-0.parquet`) and CSV (`data/sales.csv`) in the S3
 * browser, see the summary, the data grid and the schema tab, and check in
 * the browser's own traffic that the object itself was never downloaded
 * (no GetObject of it through the gateway: the rows come from the server's
 * preview endpoint, which reads only what it needs).
 */
import { expect, test } from '@jupyterlab/galata';

import {
  DEMO_BUCKET,
  DEMO_ROOT,
  openS3Folder,
  openS3Panel,
  s3Item,
  saveDocsScreenshot,
  selectors
} from './helpers';

const preview = {
  tab: '.jp-smallfry-Preview',
  uri: '.jp-smallfry-Preview-uri',
  facts: '.jp-smallfry-Preview-facts',
  grid: '.jp-smallfry-Preview-grid',
  tabBarTab: '.jp-smallfry-Preview-tabs .lm-TabBar-tab'
} as const;

test('previews the demo Parquet and CSV without downloading them', async ({
  page
}) => {
  const gets: string[] = [];
  page.on('request', request => {
    if (request.method() === 'GET' && request.url().includes('/smallfry/aws/s3/')) {
      gets.push(new URL(request.url()).pathname);
    }
  });

  await openS3Panel(page);
  await openS3Folder(page, `${DEMO_ROOT}/sales/year=2025`);
  await s3Item(page, 'part-0.parquet').locator(selectors.itemText).dblclick();

  const parquet = page.locator(preview.tab).filter({
    has: page.locator(preview.uri, {
      hasText: `s3://${DEMO_BUCKET}/sales/year=2025/part-0.parquet`
    })
  });
  await expect(parquet.locator(preview.facts)).toContainText(
    '120 of 120 rows shown'
  );
  await expect(parquet.locator(preview.facts)).toBeVisible();
  await expect(parquet.locator(preview.facts)).toContainText('7 columns');
  await expect(parquet.locator(preview.facts)).toContainText(
    '2 of 2 row groups read'
  );
  await expect(parquet.locator(preview.grid).first()).toBeVisible();
  await saveDocsScreenshot(page, 'preview.png');

  await parquet.locator(preview.tabBarTab, { hasText: 'Schema' }).click();
  await expect(parquet.locator(preview.grid).nth(1)).toBeVisible();
  await saveDocsScreenshot(parquet, 'preview-schema.png', false);

  // Back to the S3 browser's top level (its home breadcrumb), then into data/.
  await page
    .locator(`${selectors.panel} .jp-BreadCrumbs-home`)
    .first()
    .click();
  await expect(s3Item(page, DEMO_ROOT)).toBeVisible();
  await openS3Folder(page, `${DEMO_ROOT}/data`);
  await s3Item(page, 'sales.csv').locator(selectors.itemText).dblclick();
  const csv = page.locator(preview.tab).filter({
    has: page.locator(preview.uri, {
      hasText: `s3://${DEMO_BUCKET}/data/sales.csv`
    })
  });
  await expect(csv.locator(preview.facts)).toContainText(
    '240 of 240 rows shown'
  );
  await expect(csv.locator(preview.grid).first()).toBeVisible();

  // Listings and HEADs only: no GET of either object.
  const objects = gets.filter(
    p => p.endsWith('/part-0.parquet') || p.endsWith('/sales.csv')
  );
  expect(objects).toEqual([]);
});
