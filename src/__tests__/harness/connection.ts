/**
 * How any spec reaches the Jupyter server under test, without loading the
 * AWS SDK (whose browser build does not load in jsdom).
 */
import { ServerConnection } from '@jupyterlab/services';

/**
 * Connection settings for the Jupyter server under test (token auth).
 */
export function serverSettings(
  baseUrl = process.env.SMALLFRY_TEST_BASE_URL
): ServerConnection.ISettings {
  const token = process.env.SMALLFRY_TEST_TOKEN;
  if (!baseUrl || !token) {
    throw new Error('The jest global setup did not start the servers.');
  }
  return ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    token,
    appendToken: false
  });
}

/**
 * A fresh, unique name (folder, job id) for one test.
 */
export function uniqueName(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
