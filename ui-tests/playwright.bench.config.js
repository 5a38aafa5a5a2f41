/**
 * Playwright configuration of the browser benchmarks (ui-tests/benchmarks).
 *
 * Kept apart from playwright.config.js so `npx playwright test` (CI) never runs
 * them: they need 100,000 keys in moto and a 256 MiB upload. The driver
 * `server-ext/benchmarks/bench_browser.py` starts moto and a Jupyter server,
 * seeds them, runs this configuration and prints the ratios; it passes the
 * server as SMALLFRY_BENCH_URL, its token as SMALLFRY_BENCH_TOKEN and where to write the figures as
 * SMALLFRY_BENCH_OUT. No web server is started here.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const chromiumPath = process.env.PW_CHROMIUM_PATH || '/usr/bin/chromium';

module.exports = {
  ...baseConfig,
  testDir: './benchmarks',
  testMatch: '**/*.bench.ts',
  reporter: [['list']],
  workers: 1,
  retries: 0,
  // One test holds several timed repetitions of a slow user action.
  timeout: 20 * 60 * 1000,
  expect: { timeout: 120 * 1000 },
  outputDir: 'test-results/benchmarks',
  use: {
    ...baseConfig.use,
    baseURL: process.env.SMALLFRY_BENCH_URL || 'http://127.0.0.1:8888',
    // The server keeps its token; every request of the page and of the
    // fixtures' API calls carries it.
    extraHTTPHeaders: process.env.SMALLFRY_BENCH_TOKEN
      ? { Authorization: `token ${process.env.SMALLFRY_BENCH_TOKEN}` }
      : {},
    video: 'off',
    trace: 'off',
    // Timed actions must not wait on a screenshot or a trace writer.
    screenshot: 'off',
    launchOptions: {
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Chromium's own record of every request (queueing, body upload,
        // sockets), for profiling: SMALLFRY_BENCH_NETLOG=/path/netlog.json.
        ...(process.env.SMALLFRY_BENCH_NETLOG
          ? [`--log-net-log=${process.env.SMALLFRY_BENCH_NETLOG}`]
          : [])
      ]
    }
  },
  webServer: undefined
};
