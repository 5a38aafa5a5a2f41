/**
 * Starting, waiting for and stopping the processes the jest global setup
 * runs (the S3 server launcher, the Jupyter servers), each logging to a file
 * whose end goes into the error when it does not come up.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');

/** The Python that runs the servers (the one with Small Fry installed). */
const PYTHON = process.env.SMALLFRY_TEST_PYTHON || 'python';

/** A TCP port nothing listens on right now, on 127.0.0.1. */
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

/**
 * Start `python <args>` with its stderr (and its stdout, unless `pipeStdout`)
 * appended to `logFile`; the child remembers its name, log and exit code.
 */
function startPython(name, args, options, logFile, pipeStdout = false) {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(PYTHON, args, {
    ...options,
    stdio: ['ignore', pipeStdout ? 'pipe' : log, log],
    detached: false
  });
  fs.closeSync(log);
  child.on('exit', code => {
    child.exitedWith = code;
  });
  child.smallfryName = name;
  child.smallfryLog = logFile;
  return child;
}

/** An error saying that `child` did not come up, with the end of its log. */
function notUp(child, what) {
  const tail = fs.readFileSync(child.smallfryLog, 'utf-8').slice(-4000);
  return new Error(
    `${child.smallfryName} did not come up (${what}; exit ${child.exitedWith}).\n` +
      `Last lines of ${child.smallfryLog}:\n${tail}`
  );
}

/** Wait until `url` answers 2xx; fail early if `child` exits. */
async function waitForUrl(child, url, headers, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline && child.exitedWith === undefined) {
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
  throw notUp(child, `${url}: ${lastError}`);
}

/**
 * Stop a child with SIGTERM, and SIGKILL if it is still there after
 * `graceMs` (a launcher stopping a Ceph cluster needs a few seconds).
 */
function stop(child, graceMs = 10000) {
  return new Promise(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

module.exports = { freePort, notUp, startPython, stop, waitForUrl };
