/**
 * Jest global teardown of the "servers" project: stop what the global setup
 * started and remove its work folder (kept with SMALLFRY_TEST_KEEP=1).
 */
const fs = require('fs');

const { stop } = require('./processes');

/** Long enough for the S3 launcher to stop a Ceph cluster and remove its files. */
const S3_GRACE_MS = 60000;

module.exports = async function globalTeardown() {
  const children = globalThis.__SMALLFRY_PROCESSES__ || [];
  // Newest first: the Jupyter servers (which hold connections to S3), then
  // the S3 launcher, started first.
  for (const child of [...children].reverse()) {
    await stop(child, child === children[0] ? S3_GRACE_MS : 10000);
  }
  const workDir = globalThis.__SMALLFRY_WORKDIR__;
  if (workDir && !process.env.SMALLFRY_TEST_KEEP) {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
};
