/**
 * @jest-environment node
 */
/**
 * What the user is told when S3 says no, through the real gateway.
 */
import { BrowserS3Client } from '../client';
import { useBucket } from '../../__tests__/harness/fixture';
import { driveOver } from '../../__tests__/harness/recording';
import { makeDrive } from '../../__tests__/harness/servers';

describe('S3Drive errors', () => {
  useBucket();

  it('says when the S3 endpoint cannot be reached, and still rejects', async () => {
    const { drive, feedback } = await makeDrive({
      baseUrl: process.env.SMALLFRY_TEST_DEAD_BASE_URL
    });
    const failure = drive.get('smallfry-test');
    await expect(failure).rejects.toMatchObject({
      response: { status: 502 },
      message: expect.stringContaining('S3 could not be reached')
    });
    expect(feedback.errors).toHaveLength(1);
    // The gateway's own diagnosis reaches the user.
    expect(feedback.errors[0]).toContain('is unreachable');
    drive.dispose();
  });

  it('says when the server has no AWS credentials, for listings and HEADs', async () => {
    const { drive, feedback } = await makeDrive({
      baseUrl: process.env.SMALLFRY_TEST_NO_CREDENTIALS_BASE_URL
    });
    await expect(drive.get('smallfry-test')).rejects.toMatchObject({
      response: { status: 403 },
      message: expect.stringContaining('no usable AWS credentials')
    });
    // A HEAD answer has no body: the gateway's code header still tells.
    await expect(
      drive.get('smallfry-test/a.txt', { content: false })
    ).rejects.toMatchObject({
      message: expect.stringContaining('Refresh credentials')
    });
    expect(feedback.errors).toHaveLength(2);
    drive.dispose();
  });

  it('says which bucket does not exist', async () => {
    const { drive, feedback } = await makeDrive({
      roots: [{ bucket: 'smallfry-no-such-bucket', prefix: '', name: 'Gone' }]
    });
    await expect(drive.get('Gone')).rejects.toMatchObject({
      response: { status: 404 },
      message: expect.stringContaining(
        '"smallfry-no-such-bucket" does not exist'
      )
    });
    expect(feedback.errors).toEqual([
      expect.stringContaining('Check the Small Fry roots configuration')
    ]);
    drive.dispose();
  });

  it('refuses a bad token at the gateway with a readable message', async () => {
    const { drive: good } = await makeDrive();
    const settings = { ...good.serverSettings, token: 'not-the-token' };
    const { drive, feedback } = driveOver(
      new BrowserS3Client({
        serverSettings: settings,
        gatewayPath: 'smallfry/aws/s3',
        region: 'us-east-1'
      }),
      { roots: ['smallfry-test'] }
    );
    await expect(drive.get('smallfry-test')).rejects.toMatchObject({
      response: { status: 403 }
    });
    expect(feedback.errors[0]).toContain('Reload the page to log in again');
    drive.dispose();
    good.dispose();
  });

  it('does not notify for a plain missing file (JupyterLab handles 404s)', async () => {
    const { drive, feedback } = await makeDrive();
    await expect(
      drive.get('smallfry-test/definitely-missing.txt', {
        type: 'file',
        content: true
      })
    ).rejects.toMatchObject({ response: { status: 404 } });
    expect(feedback.errors).toEqual([]);
    drive.dispose();
  });
});
