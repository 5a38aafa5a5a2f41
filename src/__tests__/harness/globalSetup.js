/**
 * Jest global setup of the "servers" project (see jest.config.js): an S3
 * server (moto, or Ceph's radosgw with SMALLFRY_TEST_S3=ceph) and Jupyter
 * servers running the Small Fry gateway in front of it, all on 127.0.0.1
 * with free ports, started once per run.
 *
 * The specs reach them through the environment variables set here.
 */
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const globalTeardown = require('./globalTeardown');
const { freePort, startPython, waitForUrl } = require('./processes');
const { s3Kind, startS3 } = require('./s3Server');

const ROOT = path.resolve(__dirname, '../../..');
const START_TIMEOUT_MS = 90000;

module.exports = async function globalSetup() {
  globalThis.__SMALLFRY_PROCESSES__ = [];
  try {
    await startServers();
  } catch (error) {
    // Jest runs no teardown when the setup fails: stop what was started.
    await globalTeardown();
    throw error;
  }
};

async function startServers() {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smallfry-jest-'));
  globalThis.__SMALLFRY_WORKDIR__ = workDir;
  const token = crypto.randomBytes(24).toString('hex');

  const env = {
    ...process.env,
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
  for (const key of [
    'AWS_PROFILE',
    'AWS_ENDPOINT_URL',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN'
  ]) {
    delete env[key];
  }

  const kind = s3Kind();
  const s3 = await startS3(kind, workDir, env);
  globalThis.__SMALLFRY_PROCESSES__.push(s3.child);
  const { endpoint_url: s3Url, region } = s3.endpoint;

  // The Jupyter servers sign with the keys the S3 server accepts.
  const withKeys = {
    ...env,
    AWS_ACCESS_KEY_ID: s3.endpoint.access_key,
    AWS_SECRET_ACCESS_KEY: s3.endpoint.secret_key,
    AWS_DEFAULT_REGION: region
  };
  // moto serves Glue on its S3 port (the Catalog's specs); radosgw has none.
  const glue = kind === 'moto' ? s3Url : '';
  const jupyter = (name, port, endpoint, serverEnv, basePath) =>
    startJupyter({
      name,
      port,
      endpoint,
      glue: endpoint === s3Url ? glue : '',
      region,
      token,
      workDir,
      env: serverEnv,
      basePath
    });
  const [mainPort, deadPort, deadS3Port, noCredsPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort()
  ]);
  const noKeys = { ...env, AWS_DEFAULT_REGION: region };
  const [baseUrl, deadBaseUrl, noCredsBaseUrl] = await Promise.all([
    // The server under test, under a JupyterHub-style base URL, so every
    // path the front end builds must keep that prefix.
    jupyter('jupyter server', mainPort, s3Url, withKeys, '/user/tester/'),
    // One whose S3 endpoint is down (nothing listens on that port), for the
    // "S3 unreachable" path.
    jupyter(
      'jupyter server (S3 down)',
      deadPort,
      `http://127.0.0.1:${deadS3Port}`,
      withKeys
    ),
    // One that has no AWS credentials at all.
    jupyter('jupyter server (no AWS credentials)', noCredsPort, s3Url, noKeys)
  ]);

  Object.assign(process.env, {
    SMALLFRY_TEST_S3: kind,
    SMALLFRY_TEST_S3_URL: s3Url,
    SMALLFRY_TEST_S3_ACCESS_KEY: s3.endpoint.access_key,
    SMALLFRY_TEST_S3_SECRET_KEY: s3.endpoint.secret_key,
    SMALLFRY_TEST_S3_REGION: region,
    SMALLFRY_TEST_BASE_URL: baseUrl,
    SMALLFRY_TEST_TOKEN: token,
    SMALLFRY_TEST_WORKDIR: workDir,
    SMALLFRY_TEST_HOME: path.join(workDir, `home-${mainPort}`),
    SMALLFRY_TEST_DEAD_BASE_URL: deadBaseUrl,
    SMALLFRY_TEST_NO_CREDENTIALS_BASE_URL: noCredsBaseUrl
  });
}

/**
 * Start a Jupyter server with the Small Fry extension in front of `endpoint`.
 *
 * @returns its base URL, once it answers
 */
async function startJupyter({
  name,
  port,
  endpoint,
  glue = '',
  region,
  token,
  workDir,
  env,
  basePath = '/'
}) {
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
        ...(glue ? { glue_endpoint_url: glue } : {}),
        region,
        roots: ['smallfry-test'],
        // Jobs and runs in the work folder, never in the user's home.
        jobs_uri: path.join(workDir, `jobs-${port}`),
        runs_uri: path.join(workDir, `runs-${port}`)
      }
    })
  );
  const jupyter = startPython(
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
  await waitForUrl(jupyter, `${baseUrl}api/status`, auth, START_TIMEOUT_MS);
  await waitForUrl(
    jupyter,
    `${baseUrl}smallfry/config`,
    auth,
    START_TIMEOUT_MS
  );
  return baseUrl;
}
