/**
 * Playwright configuration of the Small Fry UI tests.
 *
 * Galata's defaults, driving Debian's Chromium (`/usr/bin/chromium`) instead of a
 * browser downloaded by Playwright. Video is off because recording needs Playwright's
 * own ffmpeg; traces and screenshots do not.
 */
const os = require('os');
const path = require('path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const chromiumPath = process.env.PW_CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * The port of the embedded demo's server (8888, Galata's default). Another one
 * (`SMALLFRY_UI_PORT=8878`) lets a run start its own server while another
 * JupyterLab holds 8888; jupyter_server_test_config.py reads the same variable.
 */
const labPort = process.env.SMALLFRY_UI_PORT || '8888';
process.env.SMALLFRY_UI_PORT = labPort;

/**
 * The notification receiver of tests/jobs-history.spec.ts: an HTTP webhook
 * endpoint and an SMTP server (jupyterlab_smallfry.tests.notify_receiver)
 * appending each message it gets to a JSON-lines file the spec reads. The
 * demo server reaches it through the Airflow connection
 * `smallfry_notify_galata` that jupyter_server_test_config.py defines from
 * the same variables, so the webhook's URL is in no job spec and never
 * reaches the browser.
 */
const notify = {
  httpPort: process.env.SMALLFRY_UI_NOTIFY_HTTP_PORT || '8885',
  smtpPort: process.env.SMALLFRY_UI_NOTIFY_SMTP_PORT || '8886',
  out:
    process.env.SMALLFRY_UI_NOTIFY_OUT ||
    path.join(os.tmpdir(), 'smallfry-ui-notifications.jsonl')
};
// Read by the spec (workers inherit this environment) and by the servers' commands.
process.env.SMALLFRY_UI_NOTIFY_HTTP_PORT = notify.httpPort;
process.env.SMALLFRY_UI_NOTIFY_SMTP_PORT = notify.smtpPort;
process.env.SMALLFRY_UI_NOTIFY_OUT = notify.out;

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

/** The receiver starts only for runs that include the jobs history spec. */
const wantsNotifyReceiver =
  fileArgs.length === 0 || fileArgs.some(arg => arg.includes('jobs-history'));

const notifyReceiver = {
  name: 'NotifyReceiver',
  command:
    'python -m jupyterlab_smallfry.tests.notify_receiver' +
    ` --http-port ${notify.httpPort} --smtp-port ${notify.smtpPort}` +
    ` --out ${JSON.stringify(notify.out)}`,
  // A test module, not in the wheel: run it from the source tree.
  cwd: path.join(__dirname, '..', 'server-ext'),
  // Ready once its HTTP port accepts connections.
  port: Number(notify.httpPort),
  timeout: 60 * 1000,
  reuseExistingServer: !process.env.CI,
  gracefulShutdown: { signal: 'SIGTERM', timeout: 10 * 1000 },
  stdout: 'pipe',
  stderr: 'pipe'
};

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
    baseURL: `http://127.0.0.1:${labPort}`,
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
      url: `http://127.0.0.1:${labPort}/lab`,
      timeout: 120 * 1000,
      reuseExistingServer: !process.env.CI,
      stdout: 'pipe',
      stderr: 'pipe'
    },
    ...(wantsNotifyReceiver ? [notifyReceiver] : []),
    ...(wantsCredentialServers ? [credentialServers] : []),
    ...(wantsPlatform ? [platformServer] : [])
  ]
};
