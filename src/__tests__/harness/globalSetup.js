/**
 * Jest global setup: start a moto S3 server and a Jupyter server running the
 * Small Fry gateway in front of it, both on 127.0.0.1 with free ports.
 *
 * The specs reach them through the environment variables set here.
 */
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../../..');
const PYTHON = process.env.SMALLFRY_TEST_PYTHON || 'python';
const START_TIMEOUT_MS = 90000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function start(name, args, options, logFile) {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(PYTHON, args, {
    ...options,
    stdio: ['ignore', log, log],
    detached: false
  });
  child.on('exit', code => {
    child.exitedWith = code;
  });
  child.smallfryName = name;
  child.smallfryLog = logFile;
  return child;
}

async function waitFor(child, url, headers) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitedWith !== undefined) {
      break;
    }
    try {
      const response = await fetch(url, { headers });
      if (response.ok) {
        return;
      }
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  const tail = fs.readFileSync(child.smallfryLog, 'utf-8').slice(-4000);
  throw new Error(
    `${child.smallfryName} did not come up at ${url} (${lastError}; exit ${child.exitedWith}).\n` +
      `Last lines of ${child.smallfryLog}:\n${tail}`
  );
}

module.exports = async function globalSetup() {
  try {
    await startServers();
  } catch (error) {
    // Jest runs no teardown when the setup fails: stop what was started.
    for (const child of globalThis.__SMALLFRY_PROCESSES__ || []) {
      child.kill('SIGKILL');
    }
    throw error;
  }
};

async function startServers() {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smallfry-jest-'));
  const motoPort = await freePort();
  const jupyterPort = await freePort();
  const token = crypto.randomBytes(24).toString('hex');
  const motoUrl = `http://127.0.0.1:${motoPort}`;

  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_DEFAULT_REGION: 'us-east-1',
    // Never let botocore look for an instance role on the network.
    AWS_EC2_METADATA_DISABLED: 'true',
    // Never pick up a developer's own AWS or Jupyter configuration.
    AWS_CONFIG_FILE: path.join(workDir, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(workDir, 'aws-credentials'),
    JUPYTER_CONFIG_DIR: path.join(workDir, 'jupyter-config'),
    JUPYTER_RUNTIME_DIR: path.join(workDir, 'jupyter-runtime'),
    JUPYTER_DATA_DIR: path.join(workDir, 'jupyter-data'),
    // Works from a source checkout too (an installed package shadows nothing:
    // it is the same code).
    PYTHONPATH: [path.join(ROOT, 'server-ext'), process.env.PYTHONPATH]
      .filter(Boolean)
      .join(path.delimiter)
  };
  for (const key of ['AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_SESSION_TOKEN']) {
    delete env[key];
  }

  const moto = start(
    'moto',
    ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(motoPort)],
    { cwd: workDir, env },
    path.join(workDir, 'moto.log')
  );
  globalThis.__SMALLFRY_PROCESSES__ = [moto];
  globalThis.__SMALLFRY_WORKDIR__ = workDir;
  await waitFor(moto, `${motoUrl}/moto-api/`, {});

  // The server under test, and one whose S3 endpoint is down (nothing
  // listens on that port), for the "S3 unreachable" path.
  // The server under test; one whose S3 endpoint is down (nothing listens
  // on that port); one that has no AWS credentials at all.
  const deadPort = await freePort();
  const deadPort2 = await freePort();
  const noCredsPort = await freePort();
  const noCredsEnv = { ...env };
  delete noCredsEnv.AWS_ACCESS_KEY_ID;
  delete noCredsEnv.AWS_SECRET_ACCESS_KEY;
  const [baseUrl, deadBaseUrl, noCredsBaseUrl] = await Promise.all([
    // Under a JupyterHub-style base URL, so every path the front end builds
    // must keep that prefix.
    startJupyter(
      'jupyter server',
      jupyterPort,
      motoUrl,
      token,
      workDir,
      env,
      '/user/tester/'
    ),
    startJupyter(
      'jupyter server (S3 down)',
      deadPort2,
      `http://127.0.0.1:${deadPort}`,
      token,
      workDir,
      env
    ),
    startJupyter(
      'jupyter server (no AWS credentials)',
      noCredsPort,
      motoUrl,
      token,
      workDir,
      noCredsEnv
    )
  ]);

  process.env.SMALLFRY_TEST_BASE_URL = baseUrl;
  process.env.SMALLFRY_TEST_TOKEN = token;
  process.env.SMALLFRY_TEST_MOTO_URL = motoUrl;
  process.env.SMALLFRY_TEST_WORKDIR = workDir;
  process.env.SMALLFRY_TEST_HOME = path.join(workDir, `home-${jupyterPort}`);
  process.env.SMALLFRY_TEST_DEAD_BASE_URL = deadBaseUrl;
  process.env.SMALLFRY_TEST_NO_CREDENTIALS_BASE_URL = noCredsBaseUrl;
}

/**
 * Start a Jupyter server with the Small Fry extension in front of `endpoint`.
 *
 * @returns its base URL, once it answers
 */
async function startJupyter(
  name,
  port,
  endpoint,
  token,
  workDir,
  env,
  basePath = '/'
) {
  const home = path.join(workDir, `home-${port}`);
  fs.mkdirSync(home);
  const configFile = path.join(workDir, `jupyter_server_config_${port}.json`);
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      ServerApp: {
        jpserver_extensions: { jupyterlab_smallfry: true }
      },
      SmallFry: {
        endpoint_url: endpoint,
        region: 'us-east-1',
        roots: ['smallfry-test'],
        // Jobs and runs in the work folder, never in the user's home.
        jobs_uri: path.join(workDir, `jobs-${port}`),
        runs_uri: path.join(workDir, `runs-${port}`)
      }
    })
  );
  const jupyter = start(
    name,
    [
      '-m',
      'jupyter',
      'server',
      '--no-browser',
      `--config=${configFile}`,
      `--port=${port}`,
      '--port-retries=0',
      `--IdentityProvider.token=${token}`,
      '--allow-root',
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.root_dir=${home}`,
      `--ServerApp.base_url=${basePath}`
    ],
    { cwd: home, env },
    path.join(workDir, `jupyter-${port}.log`)
  );
  globalThis.__SMALLFRY_PROCESSES__.push(jupyter);
  const baseUrl = `http://127.0.0.1:${port}${basePath}`;
  const auth = { Authorization: `token ${token}` };
  await waitFor(jupyter, `${baseUrl}api/status`, auth);
  await waitFor(jupyter, `${baseUrl}smallfry/config`, auth);
  return baseUrl;
}
