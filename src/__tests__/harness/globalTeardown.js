/**
 * Jest global teardown: stop the servers started by the global setup.
 */
const fs = require('fs');

function stop(child) {
  return new Promise(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

module.exports = async function globalTeardown() {
  const children = globalThis.__SMALLFRY_PROCESSES__ || [];
  // Jupyter first (it holds connections to moto), then moto.
  for (const child of children.reverse()) {
    await stop(child);
  }
  const workDir = globalThis.__SMALLFRY_WORKDIR__;
  if (workDir && !process.env.SMALLFRY_TEST_KEEP) {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
};
