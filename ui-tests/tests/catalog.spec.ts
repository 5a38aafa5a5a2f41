/**
 * The Catalog panel on the embedded demo: browse the demo catalog (the
 * `demo` database, its `sales` table over the demo bucket's partitioned
 * Parquet, with columns and partition values), then register a folder of
 * the S3 browser as a table and see it appear. Glue is moto's, reached
 * through the gateway like in production.
 */
import { expect, test } from '@jupyterlab/galata';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  DEMO_ROOT,
  openS3Panel,
  s3Item,
  saveDocsScreenshot,
  selectors
} from './helpers';

/** Selectors of the Catalog panel (src/catalog/panel.tsx). */
const catalog = {
  tab: '.jp-SideBar .lm-TabBar-tab[data-id="smallfry-catalog-panel"]',
  panel: '#smallfry-catalog-panel',
  database: (name: string) =>
    `.jp-smallfry-CatalogDatabase[data-database="${name}"]`,
  table: (qualified: string) =>
    `.jp-smallfry-CatalogTable[data-table="${qualified}"]`,
  row: '.jp-smallfry-CatalogRow',
  column: '.jp-smallfry-CatalogColumn',
  partitionKey: '.jp-smallfry-CatalogPartitionKey',
  location: '.jp-smallfry-CatalogLocation',
  dialog: '.jp-Dialog',
  register: '.jp-smallfry-RegisterDialog'
} as const;

async function openCatalog(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.locator(catalog.tab).click();
  const panel = page.locator(catalog.panel);
  await expect(panel).toBeVisible();
  return panel;
}

async function expandTable(
  panel: Locator,
  database: string,
  table: string
): Promise<Locator> {
  const db = panel.locator(catalog.database(database));
  await expect(db, `the ${database} database is listed`).toBeVisible();
  const row = panel.locator(catalog.table(`${database}.${table}`));
  if (!(await row.isVisible())) {
    await db.locator(catalog.row).first().click();
  }
  await expect(row, `${database}.${table} is listed`).toBeVisible();
  await row.locator(catalog.row).click();
  return row;
}

test.describe('Catalog panel', () => {
  test('shows the demo table with its columns, partitions and location', async ({
    page
  }) => {
    const panel = await openCatalog(page);
    const sales = await expandTable(panel, 'demo', 'sales');
    await expect(sales.locator(catalog.column).first()).toBeVisible();
    expect(await sales.locator(catalog.column).count()).toBeGreaterThan(1);
    const year = sales.locator(catalog.partitionKey).first();
    await expect(year).toContainText('year');
    // Sample values with their partition counts, e.g. "2025 (12)".
    await expect(year).toContainText(/\d{4} \(\d+\)/);
    await expect(sales.locator(catalog.location)).toContainText(
      's3://smallfry-demo/sales/'
    );
    await saveDocsScreenshot(page.locator(catalog.panel), 'catalog.png');

    // Copy query: the SQL and the sf.table() line, as the toast confirms.
    await sales.locator('.jp-smallfry-CatalogCopyQuery').click();
    await expect(
      page
        .locator(selectors.toast)
        .filter({ hasText: 'SELECT * FROM demo.sales LIMIT 100' })
    ).toBeVisible();

    // Preview: the table preview of the table's first data file.
    await sales.locator('.jp-smallfry-CatalogPreview').click();
    const preview = page.locator('.jp-smallfry-PreviewDocument');
    await expect(preview).toBeVisible();
    // Its tab is named after the file, in the partition folder it came from.
    await expect(
      page.getByRole('tab', { name: /^part-\d+\.parquet$/ })
    ).toBeVisible();

    // Open location: the S3 browser moves to the table's folder.
    await sales.locator('.jp-smallfry-CatalogOpenLocation').click();
    await expect(
      page.locator(`${selectors.panel} ${selectors.crumbs}`).last()
    ).toHaveAttribute('data-path', `${DEMO_ROOT}/sales`);
  });

  test('registers an S3 folder as a table', async ({ page }) => {
    await openS3Panel(page);
    // A folder that mixes formats cannot be a table: the user is told why.
    await s3Item(page, DEMO_ROOT).locator(selectors.itemText).dblclick();
    await s3Item(page, 'data').click({ button: 'right' });
    await page
      .locator(selectors.menu)
      .getByText('Register as Table…', { exact: true })
      .click();
    await expect(
      page.locator(selectors.toast).filter({ hasText: 'mixes' })
    ).toBeVisible();

    await s3Item(page, 'sales').click({ button: 'right' });
    await page
      .locator(selectors.menu)
      .getByText('Register as Table…', { exact: true })
      .click();
    const dialog = page.locator(catalog.register);
    await expect(dialog).toBeVisible();
    // Drafted from the data: Parquet columns, and the key=value folders.
    await expect(
      dialog.locator('.jp-smallfry-RegisterColumn[data-kind="partition"]')
    ).not.toHaveCount(0);
    await expect(dialog.locator('input[name="table"]')).toHaveValue('sales');
    // "sales" is taken in "demo": the dialog says so and stays open.
    await page
      .locator(catalog.dialog)
      .getByRole('button', { name: 'Register' })
      .click();
    await expect(page.locator('.jp-smallfry-RegisterProblems')).toContainText(
      'demo.sales already exists'
    );
    await page.locator('input[name="table"]').fill('sales_by_month');
    await saveDocsScreenshot(
      page.locator(catalog.dialog).locator('.jp-Dialog-content'),
      'catalog-register.png'
    );
    await page
      .locator(catalog.dialog)
      .getByRole('button', { name: 'Register' })
      .click();
    await expect(page.locator(catalog.dialog)).toHaveCount(0);

    // The Catalog panel shows the new table, its columns from the data.
    const panel = page.locator(catalog.panel);
    await expect(panel).toBeVisible();
    const created = await expandTable(panel, 'demo', 'sales_by_month');
    await expect(created.locator(catalog.column).first()).toBeVisible();
    await expect(created.locator(catalog.partitionKey).first()).toContainText(
      'year'
    );
  });
});
