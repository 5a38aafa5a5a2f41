/**
 * Keep the S3 file browser in step with changes made through the drive.
 */
import type { FileBrowserModel } from '@jupyterlab/filebrowser';
import type { Contents } from '@jupyterlab/services';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import type { S3Drive } from './drive';
import { dirname } from './paths';

/**
 * Refresh the browser when something changes in the folder it shows.
 *
 * JupyterLab's file browser model compares the changed path with its own
 * after adding the drive prefix again to paths the contents manager already
 * prefixed, so for a non-default drive it never matches; this fills the gap
 * (e.g. an upload finishing, a folder renamed).
 *
 * @returns a disposable that stops following
 */
export function followDriveChanges(
  drive: S3Drive,
  model: FileBrowserModel
): IDisposable {
  const prefix = `${drive.name}:`;
  const onChange = (_: S3Drive, change: Contents.IChangedArgs): void => {
    const current = model.path.startsWith(prefix)
      ? model.path.slice(prefix.length)
      : model.path;
    const touched = [change.oldValue?.path, change.newValue?.path]
      .filter((p): p is string => typeof p === 'string')
      .map(p => dirname(p));
    if (touched.includes(current)) {
      void model.refresh();
    }
  };
  drive.fileChanged.connect(onChange);
  // After a folder's quick first look is on screen, list its whole page.
  const onRefreshed = (): void => {
    const current = model.path.startsWith(prefix)
      ? model.path.slice(prefix.length)
      : model.path;
    if (drive.listingStatus(current)?.partial) {
      void model.refresh();
    }
  };
  model.refreshed.connect(onRefreshed);
  return new DisposableDelegate(() => {
    drive.fileChanged.disconnect(onChange);
    model.refreshed.disconnect(onRefreshed);
  });
}
