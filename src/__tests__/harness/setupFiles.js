/**
 * JupyterLab's jest shim assumes a DOM; the S3 specs run in Node.
 */
if (typeof window !== 'undefined') {
  require('@jupyterlab/testing/lib/jest-shim.js');
}
