/**
 * Code shortcuts on the embedded demo: right-click the demo's Parquet
 * object in the S3 browser → *Insert into Notebook*, run the cell in a real
 * kernel of the server and see the DataFrame; the same from the demo
 * catalog's `demo.sales` table (`sf.table`); with no notebook open, the
 * command says so instead of creating one.
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

const OBJECT = `s3://${DEMO_BUCKET}/sales/year=2025/part-0.parquet`;

test.describe('Code shortcuts', () => {
  test('Insert into Notebook puts working pandas code below the active cell', async ({
    page
  }) => {
    // A new notebook from the launcher, its kernel started.
    await page
      .locator('.jp-LauncherCard[data-category="Notebook"]')
      .first()
      .click();
    await expect(page.locator('.jp-NotebookPanel')).toBeVisible();
    await expect(
      page.locator('#jp-main-statusbar').getByText('Idle')
    ).toBeVisible({ timeout: 60000 });
    await page.notebook.setCell(0, 'code', 'print("first cell")');

    await openS3Panel(page);
    await openS3Folder(page, `${DEMO_ROOT}/sales/year=2025`);
    await s3Item(page, 'part-0.parquet')
      .locator(selectors.itemText)
      .click({ button: 'right' });
    await page
      .locator(selectors.menu)
      .getByText('Insert into Notebook (pandas)', { exact: true })
      .click();

    // A second cell, below the first, with the sf.read line for the object.
    const cells = page.locator('.jp-NotebookPanel .jp-Cell');
    await expect(cells).toHaveCount(2);
    await expect(cells.nth(1)).toHaveClass(/jp-CodeCell/);
    await expect(cells.nth(1).locator('.jp-Editor')).toContainText(
      `df = sf.read("${OBJECT}")`
    );

    // It runs as-is in the server's kernel: a DataFrame shows.
    await page.notebook.runCell(1);
    const table = cells.nth(1).locator('.jp-OutputArea-output table.dataframe');
    await expect(table).toBeVisible({ timeout: 60000 });
    await expect(table.locator('thead')).toContainText('amount');
    await expect(table.locator('tbody tr')).toHaveCount(5);
    await expect(
      cells.nth(1).locator('.jp-OutputArea-output')
    ).not.toContainText('Error');
    await saveDocsScreenshot(page, 'insert-code.png');
  });

  test('a catalog table inserts sf.table code that runs', async ({ page }) => {
    await page
      .locator('.jp-LauncherCard[data-category="Notebook"]')
      .first()
      .click();
    await expect(
      page.locator('#jp-main-statusbar').getByText('Idle')
    ).toBeVisible({ timeout: 60000 });

    await page
      .locator('.jp-SideBar .lm-TabBar-tab[data-id="smallfry-catalog-panel"]')
      .click();
    const db = page.locator(
      '.jp-smallfry-CatalogDatabase[data-database="demo"]'
    );
    await db.locator('.jp-smallfry-CatalogRow').first().click();
    const table = page.locator(
      '.jp-smallfry-CatalogTable[data-table="demo.sales"]'
    );
    await table.locator('.jp-smallfry-CatalogRow').click({ button: 'right' });
    await page
      .locator(selectors.menu)
      .getByText('Insert into Notebook (pandas)', { exact: true })
      .click();

    const cells = page.locator('.jp-NotebookPanel .jp-Cell');
    await expect(cells.nth(1).locator('.jp-Editor')).toContainText(
      'df = sf.table("demo.sales")'
    );
    await page.notebook.runCell(1);
    const frame = cells.nth(1).locator('.jp-OutputArea-output table.dataframe');
    await expect(frame).toBeVisible({ timeout: 60000 });
    await expect(frame.locator('tbody tr')).toHaveCount(5);
  });

  test('Insert into Notebook without a notebook says so, and opens none', async ({
    page
  }) => {
    await openS3Panel(page);
    await openS3Folder(page, `${DEMO_ROOT}/sales/year=2025`);
    await s3Item(page, 'part-0.parquet')
      .locator(selectors.itemText)
      .click({ button: 'right' });
    await page
      .locator(selectors.menu)
      .getByText('Insert into Notebook (pandas)', { exact: true })
      .click();
    await expect(
      page.locator(selectors.toast).filter({ hasText: 'Open a notebook' })
    ).toBeVisible();
    await expect(page.locator('.jp-NotebookPanel')).toHaveCount(0);
  });
});
