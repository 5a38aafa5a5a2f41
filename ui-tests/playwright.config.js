/**
 * Playwright configuration of the Small Fry UI tests.
 *
 * Galata's defaults, driving Debian's Chromium (`/usr/bin/chromium`) instead of a
 * browser downloaded by Playwright. Video is off because recording needs Playwright's
 * own ffmpeg; traces and screenshots do not.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const chromiumPath = process.env.PW_CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * The credentials servers (five processes and a JupyterHub) are only worth starting when
 * the run includes tests/credentials.spec.ts: a run limited to other spec files
 * (`npx playwright test tests/schedule.spec.ts`) skips them. A run without file
 * arguments, as on CI, starts everything.
 */
const fileArgs = process.argv
  .slice(2)
  .filter(arg => !arg.startsWith('-') && /\.spec\.ts|^tests\//.test(arg));
const wantsCredentialServers =
  fileArgs.length === 0 || fileArgs.some(arg => arg.includes('credentials'));

/**
 * The team platform (PostgreSQL, Airflow, JupyterHub, the Hub service, moto, an
 * OIDC provider; see platform_server.py) likewise starts only for runs that
 * include tests/platform.spec.ts. It needs root (Unix accounts): as another
 * user it is not started and the spec skips, saying why. With
 * SMALLFRY_PLATFORM_HUB set, the spec uses that running platform instead.
 */
const wantsPlatform =
  (fileArgs.length === 0 || fileArgs.some(arg => arg.includes('platform'))) &&
  typeof process.getuid === 'function' &&
  process.getuid() === 0 &&
  !process.env.SMALLFRY_PLATFORM_HUB;

const credentialServers = {
  // One real server per state of the AWS credentials widget (8890-8893), with moto
  // and a JupyterHub (8894): see credential_servers.py. It answers on its last port
  // only once all are up, and stops them all on SIGTERM.
  name: 'CredentialServers',
  command: 'python credential_servers.py',
  url: 'http://127.0.0.1:8893/api/status',
  timeout: 240 * 1000,
  reuseExistingServer: !process.env.CI,
  gracefulShutdown: { signal: 'SIGTERM', timeout: 20 * 1000 },
  stdout: 'pipe',
  stderr: 'pipe'
};

const platformServer = {
  // Ready when it prints its Hub URL, which goes to the spec as
  // process.env.SMALLFRY_PLATFORM_HUB (the named group). Its ports are free
  // ones, so there is no URL to poll and no existing server to reuse.
  name: 'Platform',
  command: 'python platform_server.py',
  wait: {
    stdout: /Small Fry platform ready: hub=(?<smallfry_platform_hub>\S+)/
  },
  // About a minute; the first run on a machine also builds Airflow's venv.
  timeout: 900 * 1000,
  // The Hub stops the users' servers, then Airflow and PostgreSQL stop.
  gracefulShutdown: { signal: 'SIGTERM', timeout: 120 * 1000 },
  stdout: 'pipe',
  stderr: 'pipe'
};

module.exports = {
  ...baseConfig,
  // The list reporter prints each test and the final summary line, on CI too.
  reporter: [['list'], ['html', { open: 'never' }]],
  workers: 1,
  retries: 0,
  // S3 calls go browser -> gateway -> moto; leave room on a busy 2-core CI machine.
  expect: { timeout: 10000 },
  use: {
    ...baseConfig.use,
    baseURL: 'http://127.0.0.1:8888',
    video: 'off',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: [
    {
      // The embedded demo: S3 browser and scheduling specs.
      command: 'npm start',
      url: 'http://127.0.0.1:8888/lab',
      timeout: 120 * 1000,
      reuseExistingServer: !process.env.CI,
      stdout: 'pipe',
      stderr: 'pipe'
    },
    ...(wantsCredentialServers ? [credentialServers] : []),
    ...(wantsPlatform ? [platformServer] : [])
  ]
};
