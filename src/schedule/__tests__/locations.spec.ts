/**
 * Between S3 drive paths and s3:// URIs: the notebook to snapshot and the
 * output notebook to open from the Jobs panel.
 */
import { RootMap } from '../../s3/paths';
import { S3Locations } from '../locations';

describe('S3Locations', () => {
  const pinned = new S3Locations(
    new RootMap([
      { bucket: 'smallfry-demo', prefix: '', name: 'demo' },
      { bucket: 'reports', prefix: 'team/', name: 'team reports' }
    ]),
    false
  );

  it('snapshots S3 notebooks by URI and local ones by path', () => {
    expect(pinned.sourceOf('S3:demo/notebooks/a.ipynb')).toBe(
      's3://smallfry-demo/notebooks/a.ipynb'
    );
    expect(pinned.sourceOf('S3:team reports/x.ipynb')).toBe(
      's3://reports/team/x.ipynb'
    );
    expect(pinned.sourceOf('work/a.ipynb')).toBe('work/a.ipynb');
    expect(pinned.sourceOf('S3:nowhere/a.ipynb')).toBeNull();
  });

  it('opens outputs through the root that holds them, else not at all', () => {
    expect(
      pinned.drivePathOf('s3://smallfry-demo/runs/alice/j/r1/output.ipynb')
    ).toBe('S3:demo/runs/alice/j/r1/output.ipynb');
    expect(pinned.drivePathOf('s3://reports/team/out/output.ipynb')).toBe(
      'S3:team reports/out/output.ipynb'
    );
    expect(pinned.drivePathOf('s3://reports/other/output.ipynb')).toBeNull();
    expect(pinned.drivePathOf('/srv/runs/output.ipynb')).toBeNull();
  });

  it('uses listed buckets when the browser lists every bucket', () => {
    const all = new S3Locations(new RootMap([]), true);
    expect(all.drivePathOf('s3://logs/runs/output.ipynb')).toBe(
      'S3:logs/runs/output.ipynb'
    );
    expect(all.sourceOf('S3:logs/nb/a.ipynb')).toBe('s3://logs/nb/a.ipynb');
  });

  it("follows the drive's roots once it has listed the buckets", () => {
    const roots = new RootMap([]);
    const all = new S3Locations(roots, true);
    roots.setBuckets(['logs']);
    expect(all.drivePathOf('s3://logs/runs/output.ipynb')).toBe(
      'S3:logs/runs/output.ipynb'
    );
    expect(all.sourceOf('S3:logs/nb/a.ipynb')).toBe('s3://logs/nb/a.ipynb');
  });
});
