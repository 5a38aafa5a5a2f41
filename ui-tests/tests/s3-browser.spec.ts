/**
 * The S3 browser against the embedded demo S3 server: what a user sees and
 * what lands in S3.
 *
 * Each server start seeds a fresh in-memory bucket; the specs that write use
 * unique names and markers, so they do not depend on each other or on order.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  DEMO_BUCKET,
  DEMO_ROOT,
  getS3Object,
  openS3Folder,
  openS3Panel,
  s3Item,
  s3ItemNames,
  s3Panel,
  saveScreenshot,
  selectors
} from './helpers';

const NOTEBOOK = 'getting-started.ipynb';
const NOTEBOOK_KEY = `notebooks/${NOTEBOOK}`;

test.describe('S3 browser on the embedded demo', () => {
  test('lists the demo bucket and walks into its folders', async ({ page }) => {
    const panel = await openS3Panel(page);

    const root = s3Item(page, DEMO_ROOT);
    await expect(root).toHaveAttribute('data-isdir', 'true');
    await saveScreenshot(panel, 's3-panel.png');

    await openS3Folder(page, DEMO_ROOT);
    // Folders first (common prefixes, no marker objects needed), then files.
    await expect(s3ItemNames(page)).toHaveText([
      'data',
      'exports',
      'notebooks',
      'sales',
      'README.md'
    ]);
    for (const folder of ['data', 'exports', 'notebooks', 'sales']) {
      await expect(s3Item(page, folder)).toHaveAttribute('data-isdir', 'true');
    }
    await expect(s3Item(page, 'README.md')).toHaveAttribute(
      'data-isdir',
      'false'
    );

    await openS3Folder(page, 'notebooks');
    await expect(s3ItemNames(page)).toHaveText([
      'extract_sales.ipynb',
      NOTEBOOK,
      'report_sales.ipynb',
      'sales-report.ipynb'
    ]);
    await expect(s3Item(page, NOTEBOOK)).toHaveAttribute(
      'data-file-type',
      'notebook'
    );
    await saveScreenshot(panel, 's3-folder.png');
  });

  test('has the file browser toolbar, with icon-only buttons like the local one', async ({
    page
  }) => {
    const panel = await openS3Panel(page);
    const toolbar = panel.locator(selectors.toolbar);
    const itemNames = (root: string) =>
      page
        .locator(`${root} ${selectors.toolbar} [data-jp-item-name]`)
        .evaluateAll(items =>
          items.map(item => item.getAttribute('data-jp-item-name'))
        );

    const names = await itemNames(selectors.panel);
    expect(names).toEqual(
      expect.arrayContaining(['new-directory', 'uploader', 'refresh'])
    );
    expect(names).toEqual(await itemNames(selectors.localBrowser));
    // Text labels do not fit a sidebar toolbar: they overlap each other. The
    // local file browser shows icons only; the S3 one should look the same.
    await expect(
      page.locator(
        `${selectors.localBrowser} ${selectors.toolbar} .jp-ToolbarButtonComponent-label`
      )
    ).toHaveCount(0);
    await expect(
      toolbar.locator('.jp-ToolbarButtonComponent-label'),
      'S3 toolbar buttons show no text labels'
    ).toHaveCount(0);
  });

  test('opens a notebook from S3 and saves an edit back to S3', async ({
    page
  }) => {
    const before = await getS3Object(page, NOTEBOOK_KEY);
    expect(before.ok()).toBe(true);
    const original = await before.json();
    const firstCell: string = [original.cells[0].source].flat().join('');
    const heading = firstCell.split('\n')[0].replace(/^#+\s*/, '');

    await openS3Panel(page);
    await openS3Folder(page, `${DEMO_ROOT}/notebooks`);
    await s3Item(page, NOTEBOOK).locator(selectors.itemText).dblclick();

    const tab = page.activity.getTabLocator(NOTEBOOK);
    await expect(tab).toBeVisible();
    await expect(tab).toHaveClass(/jp-mod-current/);
    // The notebook shows what is stored in S3.
    const notebook = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)');
    await expect(notebook.locator('.jp-Cell')).toHaveCount(
      original.cells.length
    );
    await expect(
      notebook.getByRole('heading', { name: heading })
    ).toBeVisible();
    await saveScreenshot(page, 's3-notebook-open.png');

    const marker = `smallfry-ui-test-${Date.now()}`;
    expect(
      await page.notebook.addCell('markdown', `Edited in S3: ${marker}`)
    ).toBe(true);
    await expect(tab).toHaveClass(/jp-mod-dirty/);

    await page.keyboard.press('Control+s');
    await expect(tab).not.toHaveClass(/jp-mod-dirty/);

    // The object in S3 now holds the edit, and still holds everything else.
    const after = await getS3Object(page, NOTEBOOK_KEY);
    expect(after.ok()).toBe(true);
    const saved = await after.json();
    const sources = saved.cells.map((cell: { source: string | string[] }) =>
      [cell.source].flat().join('')
    );
    expect(sources).toContain(`Edited in S3: ${marker}`);
    expect(saved.cells).toHaveLength(original.cells.length + 1);
    expect(sources[0]).toBe(firstCell);
    expect(saved.nbformat).toBe(4);
  });

  test('uploads files into the open S3 folder with the toolbar button', async ({
    page
  }) => {
    const stamp = Date.now();
    const text = {
      name: `upload-${stamp}.txt`,
      mimeType: 'text/plain',
      buffer: Buffer.from(`uploaded by the Small Fry UI tests ${stamp}\n`)
    };
    // Every byte value, so a text-only or re-encoding upload path shows up.
    const binary = {
      name: `upload-${stamp}.bin`,
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256))
    };

    await openS3Panel(page);
    await openS3Folder(page, `${DEMO_ROOT}/data`);
    await expect(s3Item(page, 'sales.csv')).toBeVisible();

    const chooser = page.waitForEvent('filechooser');
    await s3Panel(page).locator(selectors.uploadButton).click();
    await (await chooser).setFiles([text, binary]);

    // The bytes land in S3 unchanged...
    for (const file of [text, binary]) {
      const key = `data/${file.name}`;
      await expect
        .poll(async () => (await getS3Object(page, key)).status(), {
          message: `${key} is in S3`
        })
        .toBe(200);
      const stored = await (await getS3Object(page, key)).body();
      expect(
        Buffer.compare(stored, file.buffer),
        `${key} holds the bytes sent`
      ).toBe(0);
    }

    // ...and the folder the user uploaded into lists them, without a refresh.
    for (const file of [text, binary]) {
      const row = s3Item(page, file.name);
      await expect(
        row,
        `${file.name} is listed after the upload`
      ).toBeVisible();
      await expect(row).toHaveAttribute('data-isdir', 'false');
    }
  });

  test('shows extension-less objects as files and opens them', async ({
    page
  }) => {
    const folder = 'exports/daily/2026-11-23';
    await openS3Panel(page);
    await openS3Folder(page, `${DEMO_ROOT}/${folder}`);

    await expect(s3ItemNames(page)).toHaveText(['_SUCCESS', 'part-00000']);
    for (const name of ['_SUCCESS', 'part-00000']) {
      await expect(s3Item(page, name)).toHaveAttribute('data-isdir', 'false');
    }

    const stored = await getS3Object(page, `${folder}/part-00000`);
    expect(stored.ok()).toBe(true);
    const firstLine = (await stored.text()).split('\n')[0];

    await s3Item(page, 'part-00000').locator(selectors.itemText).dblclick();
    const tab = page.activity.getTabLocator('part-00000');
    await expect(tab).toHaveClass(/jp-mod-current/);
    await expect(
      page.locator('.jp-FileEditor .cm-content .cm-line').first()
    ).toHaveText(firstLine);
  });

  test('offers "Copy S3 URI" on a file and copies its s3:// URI', async ({
    page
  }) => {
    await openS3Panel(page);
    await openS3Folder(page, DEMO_ROOT);

    await s3Item(page, 'README.md')
      .locator(selectors.itemText)
      .click({ button: 'right' });
    const entry = page
      .locator(selectors.menu)
      .getByRole('menuitem', { name: 'Copy S3 URI' });
    await expect(entry).toBeVisible();
    await saveScreenshot(page, 's3-context-menu.png');

    await entry.click();
    await expect(
      page.locator(selectors.toast).filter({
        hasText: 'Copied s3://smallfry-demo/README.md'
      })
    ).toBeVisible();
  });

  test("gives the notebook's kernel its s3:// URI", async ({ page }) => {
    await openS3Panel(page);
    await openS3Folder(page, `${DEMO_ROOT}/notebooks`);
    await s3Item(page, 'getting-started.ipynb')
      .locator(selectors.itemText)
      .dblclick();
    await expect(
      page.locator('#jp-main-statusbar').getByText('Idle')
    ).toBeVisible({ timeout: 60000 });
    await page.notebook.setCell(
      0,
      'code',
      "import os; print(os.environ['SMALLFRY_NOTEBOOK_URI'])"
    );
    await page.notebook.runCell(0);
    expect(await page.notebook.getCellTextOutput(0)).toEqual([
      `s3://${DEMO_BUCKET}/notebooks/getting-started.ipynb\n`
    ]);
  });
});
