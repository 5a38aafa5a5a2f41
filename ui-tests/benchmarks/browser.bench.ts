/**
 * Speed a user feels, measured in Chromium against a real Jupyter server with
 * Small Fry and a real moto S3 server.
 *
 * Run by `server-ext/benchmarks/bench_browser.py`, which seeds the data,
 * takes the Python baselines in the same run and prints the ratios. Each test
 * writes its figures to `$SMALLFRY_BENCH_OUT/<name>.json`; times are taken in
 * the page (event time stamps and `performance.now()` in animation frames), so
 * Playwright's round trips do not count.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { CDPSession, Request } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';

import { openS3Folder, s3Item, s3Panel, selectors } from '../tests/helpers';

const env = (name: string, fallback: string): string =>
  process.env[name] ?? fallback;

const OUT = env(
  'SMALLFRY_BENCH_OUT',
  path.join(__dirname, '..', 'test-results', 'bench')
);
const BUCKET = env('SMALLFRY_BENCH_BUCKET', 'bench-browser');
const REPEAT = Number(env('SMALLFRY_BENCH_REPEAT', '7'));
/** The 100,000-key folder of the bucket and its first key (sorted). */
const HUGE = 'huge';
const HUGE_FIRST = '0000000.json';
/** Rows of a whole listing page (the server's default `page_size`). */
const PAGE_ROWS = 1000;
/** The big notebook: in `notebooks/` of the bucket and at the local root. */
const NOTEBOOK = 'big.ipynb';
const NOTEBOOK_CELLS = Number(env('SMALLFRY_BENCH_CELLS', '200'));
const UPLOAD_FILE = env('SMALLFRY_BENCH_UPLOAD', '');
/** Take a CPU profile of the upload too (it slows the upload down). */
const PROFILE = env('SMALLFRY_BENCH_PROFILE', '') !== '';
const EXTENSION_PATH = '/lab/extensions/jupyterlab-smallfry/';

test.use({ autoGoto: false });

function save(name: string, figures: unknown): void {
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(
    path.join(OUT, `${name}.json`),
    JSON.stringify(figures, null, 2)
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Click the sidebar tab with Lumino id `id` unless its panel is shown. */
async function showSidebar(
  page: IJupyterLabPageFixture,
  id: string
): Promise<void> {
  const panel = page.locator(`#${id}`);
  if (!(await panel.isVisible())) {
    await page.locator(`.jp-SideBar .lm-TabBar-tab[data-id="${id}"]`).click();
  }
  await expect(panel).toBeVisible();
}

/** Open the S3 browser and walk into the benchmark bucket (and `folder`). */
async function openBucket(
  page: IJupyterLabPageFixture,
  folder = ''
): Promise<string> {
  await showSidebar(page, 'smallfry-s3-browser');
  await expect(s3Item(page, BUCKET)).toBeVisible();
  await openS3Folder(page, folder ? `${BUCKET}/${folder}` : BUCKET);
  const crumbs = s3Panel(page).locator(selectors.crumbs);
  return (await crumbs.last().getAttribute('data-path')) ?? '';
}

/**
 * Remember the time stamp of the next double-click anywhere in the page, the
 * moment the user's action starts.
 */
async function armDblclick(page: IJupyterLabPageFixture): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    w.__bench = {};
    performance.clearResourceTimings();
    document.addEventListener(
      'dblclick',
      (event: Event) => {
        w.__bench.start = event.timeStamp;
      },
      { capture: true, once: true }
    );
  });
}

/** Requests the page sends while `action` runs. */
async function countRequests<T>(
  page: IJupyterLabPageFixture,
  action: () => Promise<T>
): Promise<{ result: T; requests: Request[] }> {
  const requests: Request[] = [];
  const onRequest = (request: Request) => requests.push(request);
  page.on('request', onRequest);
  try {
    return { result: await action(), requests };
  } finally {
    page.off('request', onRequest);
  }
}

/** Summed self time of a CPU profile, by the script (file name) it ran in. */
function selfTimeByScript(
  profile: any,
  top = 12
): { script: string; ms: number }[] {
  const byNode = new Map<number, any>();
  for (const node of profile.nodes) {
    byNode.set(node.id, node);
  }
  const totals = new Map<string, number>();
  const deltas: number[] = profile.timeDeltas;
  profile.samples.forEach((id: number, i: number) => {
    const frame = byNode.get(id).callFrame;
    const script = frame.url
      ? frame.url.replace(/^.*\/(lab\/)?/, '').replace(/\?.*$/, '')
      : `(${frame.functionName || 'native'})`;
    const ms = (deltas[i + 1] ?? 0) / 1000;
    totals.set(script, (totals.get(script) ?? 0) + ms);
  });
  return [...totals.entries()]
    .map(([script, ms]) => ({ script, ms: Math.round(ms * 10) / 10 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
}

/** Summed self time of a CPU profile, by function (and its script). */
function selfTimeByFunction(
  profile: any,
  top = 25
): { fn: string; ms: number }[] {
  const byNode = new Map<number, any>();
  for (const node of profile.nodes) {
    byNode.set(node.id, node);
  }
  const totals = new Map<string, number>();
  const deltas: number[] = profile.timeDeltas;
  profile.samples.forEach((id: number, i: number) => {
    const frame = byNode.get(id).callFrame;
    const script = frame.url
      ? frame.url.replace(/^.*\//, '').replace(/\?.*$/, '')
      : '';
    const fn = `${frame.functionName || '(anonymous)'} ${script}:${frame.lineNumber}`;
    totals.set(fn, (totals.get(fn) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  });
  return [...totals.entries()]
    .map(([fn, ms]) => ({ fn, ms: Math.round(ms * 10) / 10 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
}

/**
 * Where an upload's time went, from the page's own clock: the chunks'
 * `contents.save` calls (and the gaps between them, where JupyterLab reads
 * the next chunk) and the gateway's S3 requests (queued, waiting, receiving).
 */
async function uploadTimeline(page: IJupyterLabPageFixture): Promise<unknown> {
  return page.evaluate(() => {
    const w = window as any;
    // The last save may still be running (the drive reads the new object's
    // metadata after S3 completed it).
    const saves: { chunk: number; start: number; end: number }[] = (
      w.__benchSaves ?? []
    ).filter((s: { end?: number }) => s.end !== undefined);
    const round = (x: number) => Math.round(x * 10) / 10;
    const sum = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0));
    const t0 = saves.length ? saves[0].start : 0;
    const gaps = saves.slice(1).map((s, i) => s.start - saves[i].end);
    const durations = saves.map(s => s.end - s.start);
    const requests = performance
      .getEntriesByType('resource')
      .filter(e => e.name.includes('/smallfry/aws/s3'))
      .map(e => {
        const r = e as PerformanceResourceTiming;
        const url = new URL(r.name);
        const kind = url.searchParams.has('partNumber')
          ? `part ${url.searchParams.get('partNumber')}`
          : url.searchParams.has('uploads')
            ? 'create'
            : url.searchParams.has('uploadId')
              ? 'complete'
              : 'other';
        return {
          kind,
          start: round(r.startTime - t0),
          connect: round(r.connectStart - t0),
          connected: round(r.connectEnd - t0),
          sent: round(r.requestStart - t0),
          firstByte: round(r.responseStart - t0),
          end: round(r.responseEnd - t0)
        };
      })
      .filter(r => r.end >= 0);
    return {
      chunks: saves.length,
      saves_ms: sum(durations),
      between_saves_ms: sum(gaps),
      slowest_saves: saves
        .map(s => ({
          chunk: s.chunk,
          at: round(s.start - t0),
          ms: round(s.end - s.start)
        }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 10),
      // Saves that waited for a part to leave (a free slot) or for S3.
      saves_over_20ms: durations.filter(d => d > 20).length,
      saves_over_20ms_total_ms: sum(durations.filter(d => d > 20)),
      median_save_ms: round(
        [...durations].sort((a, b) => a - b)[
          Math.floor(durations.length / 2)
        ] ?? 0
      ),
      median_gap_ms: round(
        [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? 0
      ),
      requests
    };
  });
}

test.describe.serial('Small Fry in the browser', () => {
  test('extension JavaScript fetched on page load', async ({ page }) => {
    const files: { url: string; raw: number; gzip: number; wire: number }[] =
      [];
    const pending: Promise<void>[] = [];
    page.on('response', response => {
      const url = new URL(response.url());
      if (!url.pathname.startsWith(EXTENSION_PATH)) {
        return;
      }
      pending.push(
        (async () => {
          const body = await response.body();
          const sizes = await response.request().sizes();
          files.push({
            url: url.pathname.slice(EXTENSION_PATH.length),
            raw: body.length,
            gzip: zlib.gzipSync(body).length,
            wire: sizes.responseBodySize
          });
        })()
      );
    });
    await page.goto();
    // Lazily imported chunks the plugins ask for at start-up count too.
    await page.waitForLoadState('networkidle');
    await Promise.all(pending);
    files.sort((a, b) => b.raw - a.raw);
    save('extension_js', {
      files,
      count: files.length,
      raw: files.reduce((sum, f) => sum + f.raw, 0),
      gzip: files.reduce((sum, f) => sum + f.gzip, 0),
      wire: files.reduce((sum, f) => sum + f.wire, 0)
    });
    expect(files.length).toBeGreaterThan(0);
  });

  test('double-click a 100,000-key folder until its first rows show', async ({
    page
  }) => {
    await page.goto();
    const bucketPath = await openBucket(page);
    const panel = s3Panel(page);
    const back = async () => {
      await panel
        .locator(`${selectors.crumbs}[data-path="${bucketPath}"]`)
        .click();
      await expect(s3Item(page, HUGE)).toBeVisible();
    };

    /**
     * One double-click on the folder; times in ms from the double-click.
     * `whenShown` runs as soon as the first rows are seen, before going back.
     */
    const once = async (whenShown?: () => Promise<void>) => {
      await armDblclick(page);
      const { result, requests } = await countRequests(page, async () => {
        await s3Item(page, HUGE).locator(selectors.itemText).dblclick();
        const handle = await page.waitForFunction(
          ({ panelSel, textSel, first }) => {
            const w = window as any;
            const shown = Array.from(
              document.querySelectorAll(`${panelSel} ${textSel}`)
            ).find(
              el => el.textContent === first && (el as HTMLElement).offsetParent
            );
            if (!shown || w.__bench.start === undefined) {
              return false;
            }
            const visible = performance.now();
            const s3 = performance
              .getEntriesByType('resource')
              .filter(e => e.name.includes('/smallfry/aws/s3'))
              .map(e => {
                const r = e as PerformanceResourceTiming;
                return {
                  url: r.name.replace(/^.*\/smallfry\/aws\/s3/, ''),
                  start: r.startTime - w.__bench.start,
                  responseStart: r.responseStart - w.__bench.start,
                  end: r.responseEnd - w.__bench.start,
                  bytes: r.encodedBodySize
                };
              });
            return {
              ms: visible - w.__bench.start,
              rows: document.querySelectorAll(`${panelSel} .jp-DirListing-item`)
                .length,
              s3
            };
          },
          {
            panelSel: selectors.panel,
            textSel: selectors.itemText,
            first: HUGE_FIRST
          },
          { polling: 'raf', timeout: 120 * 1000 }
        );
        const first = (await handle.jsonValue()) as {
          ms: number;
          rows: number;
          s3: {
            url: string;
            start: number;
            responseStart: number;
            end: number;
            bytes: number;
          }[];
        };
        // Then the whole first page (the browser may show a screenful first).
        const whole = await page.waitForFunction(
          ({ panelSel, pageRows }) => {
            const w = window as any;
            const rows = document.querySelectorAll(
              `${panelSel} .jp-DirListing-item`
            ).length;
            return rows >= pageRows ? performance.now() - w.__bench.start : 0;
          },
          { panelSel: selectors.panel, pageRows: PAGE_ROWS },
          { polling: 'raf', timeout: 120 * 1000 }
        );
        return { ...first, wholeMs: (await whole.jsonValue()) as number };
      });
      await whenShown?.();
      await back();
      return {
        ...result,
        requests: requests.map(r => `${r.method()} ${r.url()}`)
      };
    };

    await once(); // warm-up: first use of the SDK chunk, connections
    const samples = [];
    for (let i = 0; i < REPEAT; i++) {
      samples.push(await once());
    }

    // One more, under the CPU profiler, to see where the main thread's time
    // goes (not counted in the figures above: profiling slows it down).
    const cdp: CDPSession = await page.context().newCDPSession(page.page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    let profile: any = null;
    // Stopped once the rows are seen, so the way back is not in it (the
    // double-click's own actionability checks by Playwright still are).
    const profiled = await once(async () => {
      profile = (await cdp.send('Profiler.stop')).profile;
    });
    await cdp.detach();

    const times = samples.map(s => s.ms);
    save('listing', {
      median_ms: median(times),
      samples_ms: times,
      whole_page_median_ms: median(samples.map(s => s.wholeMs)),
      rows: samples[0].rows,
      // The median run's requests and resource timings.
      sample: [...samples].sort((a, b) => a.ms - b.ms)[
        Math.floor(samples.length / 2)
      ],
      profiled: {
        ms: profiled.ms,
        self_time_by_script: selfTimeByScript(profile),
        self_time_by_function: selfTimeByFunction(profile)
      }
    });
    // At least a screenful at first sight, and the whole page after.
    expect(samples[0].rows).toBeGreaterThanOrEqual(50);
    expect(samples[0].wholeMs).toBeGreaterThanOrEqual(samples[0].ms);
  });

  test('open a 20 MB notebook from S3 and from the local browser', async ({
    page
  }) => {
    await page.goto();
    await openBucket(page, 'notebooks');

    const open = async (where: 's3' | 'local') => {
      const sidebar = where === 's3' ? 'smallfry-s3-browser' : 'filebrowser';
      await showSidebar(page, sidebar);
      const row = page.locator(`#${sidebar} ${selectors.item}`).filter({
        has: page
          .locator(selectors.itemText)
          .getByText(NOTEBOOK, { exact: true })
      });
      await armDblclick(page);
      await row.locator(selectors.itemText).dblclick();
      const handle = await page.waitForFunction(
        ({ name, cells }) => {
          const w = window as any;
          const widget = w.jupyterapp.shell.currentWidget;
          const context = widget?.context;
          if (
            w.__bench.start === undefined ||
            !context?.path?.endsWith(name) ||
            !context.isReady
          ) {
            return false;
          }
          w.__bench.ready ??= performance.now();
          const all = widget.content?.widgets ?? [];
          const last = all[all.length - 1];
          if (
            all.length !== cells ||
            !last.node.isConnected ||
            !last.node.querySelector('.jp-OutputArea-output')
          ) {
            return false;
          }
          return {
            ready: w.__bench.ready - w.__bench.start,
            lastCell: performance.now() - w.__bench.start
          };
        },
        { name: NOTEBOOK, cells: NOTEBOOK_CELLS },
        { polling: 'raf', timeout: 300 * 1000 }
      );
      const result = (await handle.jsonValue()) as {
        ready: number;
        lastCell: number;
      };
      // Not `application:close-all`: it leaves this notebook open. Nothing
      // was edited, so the widget can go without asking.
      await page.evaluate(() => {
        const widget = (window as any).jupyterapp.shell.currentWidget;
        widget.context.model.dirty = false;
        widget.dispose();
      });
      await expect(page.locator('.jp-NotebookPanel')).toHaveCount(0);
      return result;
    };

    // Warm-up of both: the kernel starts, code and fonts load.
    await open('s3');
    await open('local');
    const s3: { ready: number; lastCell: number }[] = [];
    const local: { ready: number; lastCell: number }[] = [];
    for (let i = 0; i < Math.max(3, Math.ceil(REPEAT / 2)); i++) {
      s3.push(await open('s3'));
      local.push(await open('local'));
    }
    save('notebook', {
      s3_ready_ms: median(s3.map(s => s.ready)),
      s3_last_cell_ms: median(s3.map(s => s.lastCell)),
      local_ready_ms: median(local.map(s => s.ready)),
      local_last_cell_ms: median(local.map(s => s.lastCell)),
      s3,
      local
    });
  });
});

test.describe('Small Fry upload in the browser', () => {
  // Galata's mocks (settings, state, user, sessions...) route requests through
  // Playwright: Chromium then pauses every request for a round trip to the
  // test runner (Chromium's net log: ~1.2 s before each 8 MiB part went out).
  // A user's browser has no such detour, so the upload runs without them.
  test.use({
    mockConfig: false,
    mockSettings: false,
    mockState: false,
    mockUser: false,
    kernels: null,
    sessions: null,
    terminals: null
  });

  test('upload a big file through the S3 browser', async ({ page }) => {
    test.skip(!UPLOAD_FILE, 'SMALLFRY_BENCH_UPLOAD names no file');
    await page.goto();
    await openBucket(page);
    const name = path.basename(UPLOAD_FILE);
    const bytes = fs.statSync(UPLOAD_FILE).size;

    // Where the time goes: every contents.save (one per 1 MiB chunk) and
    // every gateway request, time-stamped in the page.
    await page.evaluate(() => {
      const w = window as any;
      performance.setResourceTimingBufferSize(100000);
      performance.clearResourceTimings();
      const contents = w.jupyterapp.serviceManager.contents;
      const save = contents.save.bind(contents);
      w.__benchSaves = [];
      contents.save = async (p: string, options: any) => {
        const entry: any = { chunk: options?.chunk, start: performance.now() };
        w.__benchSaves.push(entry);
        try {
          return await save(p, options);
        } finally {
          entry.end = performance.now();
        }
      };
    });
    const cdp: CDPSession | null = PROFILE
      ? await page.context().newCDPSession(page.page)
      : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await cdp.send('Profiler.start');
    }

    const chooser = page.waitForEvent('filechooser');
    await s3Panel(page).locator(selectors.uploadButton).click();
    const fileChooser = await chooser;
    // The multipart upload is done when S3 answers CompleteMultipartUpload:
    // a POST on the key with an uploadId (and no partNumber).
    const completed = page.waitForResponse(
      response =>
        response.request().method() === 'POST' &&
        response.url().includes(`/${encodeURIComponent(name)}?`) &&
        response.url().includes('uploadId=') &&
        !response.url().includes('partNumber='),
      { timeout: 30 * 60 * 1000 }
    );
    const { result, requests } = await countRequests(page, async () => {
      await fileChooser.setFiles(UPLOAD_FILE);
      // JupyterLab asks before uploading more than 15 MB; the clock starts
      // when the user says yes.
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog).toContainText('Large file size warning');
      const startMs = Date.now();
      await dialog.locator('.jp-mod-accept').click();
      const response = await completed;
      const endMs = Date.now();
      expect(response.status()).toBe(200);
      return { startMs, endMs };
    });

    const head = await page.request.head(
      `${new URL(page.url()).origin}/smallfry/aws/s3/${BUCKET}/${encodeURIComponent(name)}`
    );
    expect(head.status()).toBe(200);
    expect(Number(head.headers()['content-length'])).toBe(bytes);

    const timeline = await uploadTimeline(page);
    let profile: any = null;
    if (cdp) {
      profile = (await cdp.send('Profiler.stop')).profile;
      await cdp.detach();
    }

    const seconds = (result.endMs - result.startMs) / 1000;
    const parts = requests.filter(r => r.url().includes('partNumber=')).length;
    save('upload', {
      bytes,
      seconds,
      mib_per_s: bytes / 2 ** 20 / seconds,
      start_ms: result.startMs,
      end_ms: result.endMs,
      parts,
      etag: head.headers()['etag'],
      requests: requests.length,
      timeline,
      ...(profile
        ? {
            self_time_by_script: selfTimeByScript(profile),
            self_time_by_function: selfTimeByFunction(profile)
          }
        : {})
    });
  });
});
