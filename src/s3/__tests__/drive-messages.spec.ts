/**
 * @jest-environment node
 */
/**
 * What the drive tells the user for S3 refusals that moto does not produce
 * on its own (AccessDenied, expired credentials, no ListBuckets permission).
 * The S3 client is replaced by a stub that fails the way S3 does.
 */
import { ServerConnection } from '@jupyterlab/services';

import { AwsError } from '../client';
import { driveOver } from '../../__tests__/harness/recording';

function driveWith(client: object, listAllBuckets = false) {
  const stub = {
    serverSettings: ServerConnection.makeSettings({
      baseUrl: 'http://localhost/'
    }),
    dispose: () => undefined,
    ...client
  };
  return driveOver(stub as any, {
    roots: [{ bucket: 'team-data', prefix: 'reports/', name: 'Reports' }],
    listAllBuckets
  });
}

describe('S3Drive messages', () => {
  it('explains AccessDenied in terms of the AWS role, and rejects with 403', async () => {
    const { drive, feedback } = driveWith({
      listLevel: async () => {
        throw new AwsError('AccessDenied', 'Access Denied', 403);
      }
    });
    await expect(drive.get('Reports/q3')).rejects.toMatchObject({
      response: { status: 403 },
      message: expect.stringContaining(
        'Your AWS role is not allowed to open "Reports/q3"'
      )
    });
    expect(feedback.errors).toEqual([
      expect.stringContaining('s3://team-data')
    ]);
  });

  it('asks to refresh credentials when they expired', async () => {
    const { drive, feedback } = driveWith({
      head: async () => {
        throw new AwsError(
          'ExpiredToken',
          'The provided token has expired.',
          400
        );
      }
    });
    await expect(
      drive.get('Reports/a.csv', { content: false })
    ).rejects.toMatchObject({
      message: expect.stringContaining('Refresh credentials')
    });
    expect(feedback.errors).toHaveLength(1);
  });

  it('shows only the pinned roots when ListBuckets is not allowed, and stops asking', async () => {
    let calls = 0;
    const { drive, feedback } = driveWith(
      {
        listBuckets: async () => {
          calls++;
          return null;
        }
      },
      true
    );
    const top = await drive.get('');
    expect((top.content as any[]).map(m => m.name)).toEqual(['Reports']);
    await drive.get('');
    expect(calls).toBe(1);
    expect(feedback.errors).toEqual([]);
  });

  it('adds the buckets ListBuckets returns after the pinned roots', async () => {
    const { drive } = driveWith(
      { listBuckets: async () => ['team-data', 'scratch'] },
      true
    );
    const top = await drive.get('');
    expect((top.content as any[]).map(m => `${m.type}:${m.name}`)).toEqual([
      'directory:Reports',
      'directory:team-data',
      'directory:scratch'
    ]);
  });
});
