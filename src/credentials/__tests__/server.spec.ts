/**
 * @jest-environment node
 */
/**
 * The credential endpoints and the STS client against the real Jupyter
 * servers (and moto) the jest global setup starts: `ambient` mode with
 * fixed test keys, and a server with no AWS credentials at all. (The STS
 * identity check is tested with the core, in src/core/__tests__.)
 */
import { ServerConnection } from '@jupyterlab/services';

import { CredentialsAPI } from '../api';
import { CredentialsModel } from '../model';

function settings(baseUrl: string): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    token: process.env.SMALLFRY_TEST_TOKEN!
  });
}

describe('credential endpoints', () => {
  const server = settings(process.env.SMALLFRY_TEST_BASE_URL!);
  const api = new CredentialsAPI(server);

  it('reports ambient keys as ok, with no secrets in the status', async () => {
    const status = await api.status();
    expect(status.mode).toBe('ambient');
    expect(status.state).toBe('ok');
    expect(status.error).toBeNull();
    expect(Array.isArray(status.roles)).toBe(true);
    expect(Array.isArray(status.warnings)).toBe(true);
    expect(typeof status.refresh_margin).toBe('number');
    // The server signs with the harness's S3 keys: neither may show up.
    const text = JSON.stringify(status);
    for (const key of [
      process.env.SMALLFRY_TEST_S3_ACCESS_KEY!,
      process.env.SMALLFRY_TEST_S3_SECRET_KEY!
    ]) {
      expect(key).toBeTruthy();
      expect(text).not.toContain(key);
    }
  });

  it('refreshes on request and says when', async () => {
    const status = await api.refresh();
    expect(status.state).toBe('ok');
    expect(status.last_refresh).not.toBeNull();
    expect(Date.parse(status.last_refresh!)).toBeGreaterThan(
      Date.now() - 60000
    );
  });

  it("refuses a role the user may not use, with the server's message", async () => {
    await expect(
      api.chooseRole('arn:aws:iam::123456789012:role/not-mine')
    ).rejects.toThrow('not allowed');
  });

  it('says what to do when the server has no AWS credentials', async () => {
    const none = new CredentialsAPI(
      settings(process.env.SMALLFRY_TEST_NO_CREDENTIALS_BASE_URL!)
    );
    const status = await none.status();
    expect(status.state).toBe('not-configured');
    expect(status.error?.code).toBe('no-credentials');
    expect(status.error?.hint).toContain('credentials_mode');
  });

  it('drives the model from the real server', async () => {
    const model = new CredentialsModel({
      api,
      autoPoll: false,
      standby: 'never'
    });
    const seen: string[] = [];
    model.changed.connect(() => seen.push(model.state));
    await model.update();
    expect(seen).toContain('ok');
    expect(model.state).toBe('ok');
    await model.refresh();
    expect(seen).toContain('refreshing');
    expect(model.state).toBe('ok');
    model.dispose();
  });
});
