/**
 * @jest-environment node
 */
/**
 * The browser keeps the contract the server keeps: the cases of
 * `contract_fixtures.json`, which `tests/test_contract.py` runs against the
 * server's code, run here against the drive's `RootMap` and the schedule
 * form's `S3Locations`. A drive path the browser shows must map to the same
 * `s3://` URI the kernel gets from the server.
 */
import fixtures from '../../../server-ext/jupyterlab_smallfry/contract_fixtures';
import type { CredentialState } from '../../credentials/api';
import {
  CREDENTIAL_STATES,
  DRIVE_NAME,
  freeName,
  serverPath,
  splitSuffix
} from '../../contract';
import { RootMap } from '../../s3/paths';
import { S3Locations } from '../../schedule/locations';

const cases = fixtures.drive_roots;

/** The drive as the browser builds it: the server's roots, then the listing. */
function browserRoots(c: (typeof cases)[number]): RootMap {
  const roots = new RootMap(c.pinned);
  if (c.list_all_buckets) {
    roots.setBuckets(c.listed_buckets);
  }
  return roots;
}

describe.each(cases.map(c => [c.title, c] as const))('%s', (_, c) => {
  const drivePaths = Object.entries(c.uris).filter(([path]) =>
    path.startsWith(`${DRIVE_NAME}:`)
  );
  const otherPaths = Object.keys(c.uris).filter(
    path => !path.startsWith(`${DRIVE_NAME}:`)
  );

  it('shows the pinned names as the server sent them, then the listed buckets', () => {
    expect(browserRoots(c).roots.map(r => r.name)).toEqual(c.names);
  });

  it.each(drivePaths)('maps %s as the server does', (path, uri) => {
    const locations = new S3Locations(browserRoots(c), c.list_all_buckets);
    expect(locations.sourceOf(path)).toBe(uri);
  });

  it.each(drivePaths)(
    'maps %s the same before the buckets are listed',
    (path, uri) => {
      // A listed root's name depends on the pinned names only, so a path
      // restored before the first listing still reaches its bucket.
      const unlisted = new S3Locations(
        new RootMap(c.pinned),
        c.list_all_buckets
      );
      expect(unlisted.sourceOf(path)).toBe(uri);
    }
  );

  it.each(drivePaths.filter(([, uri]) => uri !== null))(
    'opens the URI of %s through a root that maps back to it',
    (path, uri) => {
      const locations = new S3Locations(browserRoots(c), c.list_all_buckets);
      const back = locations.drivePathOf(uri!);
      expect(back).not.toBeNull();
      expect(locations.sourceOf(back!)).toBe(uri);
    }
  );

  if (otherPaths.length > 0) {
    it.each(otherPaths)('leaves %s (not the S3 drive) as it is', path => {
      const locations = new S3Locations(browserRoots(c), c.list_all_buckets);
      expect(c.uris[path]).toBeNull();
      expect(locations.sourceOf(path)).toBe(path);
    });
  }
});

describe('the rest of the contract', () => {
  it('names the collision suffix and reads it back', () => {
    expect(freeName('logs', new Set())).toBe('logs');
    expect(freeName('logs', new Set(['logs', 'logs (2)']))).toBe('logs (3)');
    expect(splitSuffix('logs (3)')).toBe('logs');
    expect(splitSuffix('logs (1)')).toBeNull();
    expect(splitSuffix('logs')).toBeNull();
  });

  it("lists exactly the credential states the front end's type names", () => {
    // A state added to or removed from the type without the contract (or
    // the other way round) fails to compile here or fails this check.
    const typed: Record<CredentialState, true> = {
      ok: true,
      refreshing: true,
      expiring: true,
      expired: true,
      'needs-login': true,
      error: true,
      'not-configured': true
    };
    expect([...CREDENTIAL_STATES].sort()).toEqual(Object.keys(typed).sort());
  });

  it('refuses a route the server does not have', () => {
    expect(serverPath('credentials_refresh')).toBe('credentials/refresh');
    expect(() => serverPath('namespace')).toThrow('no route named');
    expect(() => serverPath('nope')).toThrow('no route named');
    expect(() => serverPath('$comment')).toThrow('no route named');
  });
});
