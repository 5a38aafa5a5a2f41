/**
 * The S3 server of a jest run, started through the Python launcher the
 * pytest suites share (`python -m jupyterlab_smallfry.tests.s3_server`), so
 * both languages test against identically configured servers.
 *
 * `SMALLFRY_TEST_S3` picks the kind: `moto` (default; a fast fake that
 * accepts any signature) or `ceph` (radosgw: real storage that checks them).
 */
const path = require('path');

const { notUp, startPython } = require('./processes');

/** The kinds the launcher knows. */
const KINDS = ['moto', 'ceph'];
/** A Ceph cluster takes ~15 s to its first answer on a quiet machine. */
const START_TIMEOUT_MS = 180000;

/** The kind of S3 server this run uses, from `SMALLFRY_TEST_S3`. */
function s3Kind() {
  const kind = process.env.SMALLFRY_TEST_S3 || 'moto';
  if (!KINDS.includes(kind)) {
    throw new Error(
      `SMALLFRY_TEST_S3=${kind} is not a kind of S3 server the harness can start: use one of ${KINDS.join(', ')}.`
    );
  }
  return kind;
}

/**
 * Start the launcher and wait for the one JSON line that says where S3 is.
 *
 * @returns the launcher process (stop it with SIGTERM: it stops the server
 *   and removes its files) and `{endpoint_url, access_key, secret_key, region}`
 */
function startS3(kind, workDir, env) {
  const child = startPython(
    `S3 server launcher (${kind})`,
    ['-m', 'jupyterlab_smallfry.tests.s3_server', '--kind', kind],
    { cwd: workDir, env },
    path.join(workDir, `s3-${kind}.log`),
    true
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let settled = false;
    const fail = what => {
      clearTimeout(timer);
      if (settled) {
        return; // an exit after the endpoint came is the teardown's business
      }
      settled = true;
      if (child.exitedWith === undefined) {
        // Not usable: stop it, so it takes its server down with it.
        child.kill('SIGTERM');
      }
      // Let the log catch up with what the launcher said before it exited.
      setTimeout(() => reject(notUp(child, what)), 100);
    };
    const timer = setTimeout(
      () => fail(`no endpoint within ${START_TIMEOUT_MS / 1000} s`),
      START_TIMEOUT_MS
    );
    child.stdout.setEncoding('utf-8');
    child.stdout.on('data', data => {
      out += data;
      const newline = out.indexOf('\n');
      if (newline === -1) {
        return;
      }
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      // Nothing more is expected on stdout; keep the pipe drained anyway.
      child.stdout.resume();
      let endpoint;
      try {
        endpoint = JSON.parse(out.slice(0, newline));
      } catch (error) {
        fail(`its first line is not JSON: ${out.slice(0, newline)}`);
        return;
      }
      const missing = ['endpoint_url', 'access_key', 'secret_key', 'region']
        .filter(k => typeof endpoint[k] !== 'string' || !endpoint[k])
        .join(', ');
      if (missing) {
        fail(`its endpoint lacks ${missing}`);
        return;
      }
      settled = true;
      resolve({ child, endpoint });
    });
    child.on('exit', () => fail('it exited before saying where S3 is'));
  });
}

module.exports = { s3Kind, startS3 };
