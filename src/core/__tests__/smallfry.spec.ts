/**
 * @jest-environment node
 */
/**
 * The core against the real Jupyter server (with the Small Fry gateway) and
 * moto the jest global setup starts: one configuration, one transport for
 * every AWS service, and the gateway's refusals reaching the caller whole.
 */
import { CreateDatabaseCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';

import { DRIVE_NAME } from '../../contract';
import { getCallerIdentity } from '../../credentials/sts';
import { serverSettings } from '../../__tests__/harness/connection';
import { motoOnly } from '../../__tests__/harness/servers';
import { AwsError } from '../gateway';
import { SmallFry } from '../smallfry';

describe('SmallFry core', () => {
  it('fetches the configuration once and shares the drive, its roots and its S3 client', async () => {
    const core = new SmallFry({ serverSettings: serverSettings() });
    expect(core.config).toBe(core.config);
    const config = await core.config;
    const drive = await core.drive;
    expect(await core.drive).toBe(drive);
    expect(await core.roots).toBe(drive.roots);
    expect(await core.s3).toBe(drive.client);
    // The drive is the contract's, and shows the server's root names as
    // they are (the server names roots; the browser never renames them).
    expect(drive.name).toBe(DRIVE_NAME);
    expect(drive.roots.roots.filter(r => r.pinned)).toEqual(
      config.roots.map(r => ({ ...(r as object), pinned: true }))
    );
    drive.dispose();
  });

  it("hands an STS client the gateway's refusal with its code", async () => {
    // The gateway forwards only allow-listed STS actions; GetSessionToken
    // returns keys, so it is refused with a 403 ActionNotAllowed.
    const core = new SmallFry({ serverSettings: serverSettings() });
    const sts = await core.createClient('sts', STSClient, { maxAttempts: 1 });
    let error: unknown = null;
    try {
      await sts.send(new GetSessionTokenCommand({}));
    } catch (e) {
      error = e;
    } finally {
      sts.destroy();
    }
    expect(error).toBeInstanceOf(AwsError);
    const refusal = error as AwsError;
    expect(refusal.status).toBe(403);
    expect(refusal.fromGateway).toBe(true);
    expect(refusal.code).toBe('GatewayError');
    expect(refusal.gatewayCode).toBe('ActionNotAllowed');
    expect(refusal.message).toContain('GetSessionToken');
  });

  motoOnly('the harness has a Glue endpoint on moto only')(
    "hands a JSON-protocol service's own error to the SDK, not as the gateway's",
    async () => {
      // Glue answers {"__type": "AlreadyExistsException", "message": ...}:
      // the caller must see Glue's code, as it would against AWS, and not a
      // "GatewayError" (the gateway's own refusals carry a message too).
      const core = new SmallFry({ serverSettings: serverSettings() });
      const glue = await core.createClient('glue', GlueClient, {
        maxAttempts: 1
      });
      const name = `core_${Date.now()}`;
      try {
        await glue.send(
          new CreateDatabaseCommand({ DatabaseInput: { Name: name } })
        );
        const again = glue.send(
          new CreateDatabaseCommand({ DatabaseInput: { Name: name } })
        );
        // Every client error is an AwsError; this one is Glue's, not ours.
        await expect(again).rejects.toMatchObject({
          code: 'AlreadyExistsException',
          fromGateway: false,
          status: 400
        });
      } finally {
        glue.destroy();
      }
    }
  );

  it('says what went wrong when the identity check fails', async () => {
    // The harness gives the gateway no STS endpoint, so STS cannot confirm
    // the identity: the user sees a readable error naming the HTTP status,
    // not Jupyter refusing the call, a parse error or a hang.
    const core = new SmallFry({ serverSettings: serverSettings() });
    let error: unknown = null;
    try {
      await getCallerIdentity(core);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AwsError);
    expect((error as Error).message).toMatch(/HTTP \d{3}/);
    expect((error as Error).message).not.toMatch(/parse error/);
  });

  it('rejects every promise with the reason when the server does not answer', async () => {
    const core = new SmallFry({
      serverSettings: serverSettings('http://127.0.0.1:9/')
    });
    await expect(core.config).rejects.toThrow();
    await expect(core.drive).rejects.toThrow();
    await expect(core.createClient('sts', STSClient)).rejects.toThrow();
  });
});
