/**
 * @jest-environment node
 */
/**
 * The S3 browser refreshes when a change lands in the folder it shows.
 */
import type { Contents } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import type { S3Drive } from '../drive';
import { followDriveChanges } from '../refresh';

describe('followDriveChanges', () => {
  const partial = new Set<string>();
  const drive = {
    name: 'S3',
    fileChanged: new Signal<any, Contents.IChangedArgs>({}),
    listingStatus: (path: string) => ({ partial: partial.has(path) })
  };
  const model = {
    path: 'S3:bucket/data',
    refreshed: new Signal<any, void>({}),
    refreshes: 0,
    async refresh() {
      this.refreshes++;
    }
  };

  beforeEach(() => {
    model.refreshes = 0;
    partial.clear();
  });

  it("lists the whole page once a folder's quick first look is shown", () => {
    const following = followDriveChanges(
      drive as unknown as S3Drive,
      model as any
    );
    model.refreshed.emit();
    expect(model.refreshes).toBe(0);
    partial.add('bucket/data');
    model.refreshed.emit();
    expect(model.refreshes).toBe(1);
    following.dispose();
    model.refreshed.emit();
    expect(model.refreshes).toBe(1);
  });

  it('refreshes for changes in the current folder only, until disposed', () => {
    const following = followDriveChanges(
      drive as unknown as S3Drive,
      model as any
    );
    drive.fileChanged.emit({
      type: 'save',
      oldValue: null,
      newValue: { path: 'bucket/data/upload.bin' }
    });
    expect(model.refreshes).toBe(1);
    drive.fileChanged.emit({
      type: 'save',
      oldValue: null,
      newValue: { path: 'bucket/elsewhere/x.txt' }
    });
    expect(model.refreshes).toBe(1);
    drive.fileChanged.emit({
      type: 'rename',
      oldValue: { path: 'bucket/data/old' },
      newValue: { path: 'bucket/moved/old' }
    });
    expect(model.refreshes).toBe(2);
    following.dispose();
    drive.fileChanged.emit({
      type: 'delete',
      oldValue: { path: 'bucket/data/upload.bin' },
      newValue: null
    });
    expect(model.refreshes).toBe(2);
  });
});
