/**
 * Every sentence the S3 drive says to the user about its own operations, in
 * one place: what a reviewer or a translator reads to change the wording.
 *
 * (How an S3 refusal is explained, AccessDenied and the like, is in
 * `errors.ts`; these are the drive's refusals, conflicts and progress.)
 * Each string stays a literal inside `trans.__()`, so the translation tools
 * still find it.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IBatchReport, ICopyPair } from './client';
import { describeFailures } from './errors';

/**
 * The drive's wording, translated.
 */
export class DriveMessages {
  constructor(readonly trans: TranslationBundle) {
    this.verbs = {
      list: trans.__('list'),
      open: trans.__('open'),
      download: trans.__('download'),
      createIn: trans.__('create a file in'),
      delete: trans.__('delete'),
      rename: trans.__('rename'),
      upload: trans.__('upload'),
      save: trans.__('save'),
      copy: trans.__('copy')
    };
  }

  /** What the drive was doing, for "Could not %1 %2": "open", "save", … */
  readonly verbs: {
    readonly [
      action in
        | 'list'
        | 'open'
        | 'download'
        | 'createIn'
        | 'delete'
        | 'rename'
        | 'upload'
        | 'save'
        | 'copy'
    ]: string;
  };

  // ------------------------------------- requests that cannot be done as asked

  chooseFolder(): string {
    return this.trans.__('Choose a bucket or folder.');
  }
  onlyFilesDownload(): string {
    return this.trans.__('Only files can be downloaded.');
  }
  nothingAtTop(): string {
    return this.trans.__(
      'Open a bucket or folder first: nothing can be created at the top of the S3 browser.'
    );
  }
  rootNotDeletable(path: string): string {
    return this.trans.__(
      '"%1" is an S3 location from the configuration; it cannot be deleted here.',
      path
    );
  }
  rootNotRenamable(): string {
    return this.trans.__(
      'S3 locations from the configuration cannot be renamed.'
    );
  }
  saveInsideFolder(): string {
    return this.trans.__('Files can only be saved inside a bucket or folder.');
  }
  copyIntoFolder(): string {
    return this.trans.__('Copy a file or folder into a bucket or folder.');
  }
  doesNotExist(path: string): string {
    return this.trans.__('"%1" does not exist.', path);
  }
  alreadyExists(path: string): string {
    return this.trans.__('"%1" already exists.', path);
  }
  noFreeName(): string {
    return this.trans.__('No free name found.');
  }
  noSuchRoot(name: string): string {
    return this.trans.__('There is no S3 location named "%1".', name);
  }

  // ------------------------------------------------------- opening and saving

  tooLargeToOpen(path: string, maxBytes: number): string {
    return this.trans.__(
      '"%1" is too large to open in JupyterLab (more than %2 MiB). Download it instead, or read it from a kernel.',
      path,
      Math.round(maxBytes / (1024 * 1024))
    );
  }
  notJson(path: string): string {
    return this.trans.__(
      '"%1" is not valid JSON, so it cannot be opened as a notebook. Open it with the text editor instead.',
      path
    );
  }
  notText(path: string): string {
    return this.trans.__(
      '"%1" is not UTF-8 text. Download it, or open it with a viewer for binary files.',
      path
    );
  }
  changedBySomeoneElse(path: string): string {
    return this.trans.__(
      '"%1" was changed on S3 by someone else since you opened it, so it was not saved. Reload it to see their version, or save again to choose whether to overwrite it.',
      path
    );
  }
  deletedSinceOpened(path: string): string {
    return this.trans.__(
      '"%1" was deleted on S3 since you opened it, so it was not saved. Save again to create it anew.',
      path
    );
  }
  uploadInterrupted(path: string): string {
    return this.trans.__(
      'The upload of "%1" was interrupted; upload the file again.',
      path
    );
  }

  // ------------------------------------------------------- deleting a folder

  deleting(count: number, path: string): string {
    return this.trans.__('Deleting %1 objects under "%2"…', count, path);
  }
  deletedSoFar(done: number, total: number, path: string): string {
    return this.trans.__(
      'Deleted %1 of %2 objects under "%3"',
      done,
      total,
      path
    );
  }
  someNotDeleted(): string {
    return this.trans.__('Some objects could not be deleted.');
  }
  deletePartlyFailed(
    report: IBatchReport<string>,
    total: number,
    path: string
  ): string {
    return this.trans.__(
      'Deleted %1 of %2 objects under "%3"; %4 could not be deleted:\n%5',
      report.succeeded.length,
      total,
      path,
      report.failed.length,
      describeFailures(report, k => k, this.trans)
    );
  }
  deleted(count: number, path: string): string {
    return this.trans.__('Deleted %1 objects under "%2".', count, path);
  }

  // ------------------------------------------- copying or moving a folder

  copyVerb(move: boolean): string {
    return move ? this.trans.__('Moving') : this.trans.__('Copying');
  }
  copying(verb: string, count: number, from: string, to: string): string {
    return this.trans.__(
      '%1 %2 objects from "%3" to "%4"…',
      verb,
      count,
      from,
      to
    );
  }
  copiedSoFar(verb: string, from: string, done: number, total: number): string {
    return this.trans.__(
      '%1 "%2": copied %3 of %4 objects',
      verb,
      from,
      done,
      total
    );
  }
  removedSoFar(
    verb: string,
    from: string,
    done: number,
    total: number
  ): string {
    return this.trans.__(
      '%1 "%2": removed %3 of %4 originals',
      verb,
      from,
      done,
      total
    );
  }
  partialCopiesLeft(count: number, to: string): string {
    return this.trans.__(
      '\n%1 partial copies under "%2" could not be removed.',
      count,
      to
    );
  }
  copyFailed(verb: string, from: string): string {
    return this.trans.__('%1 "%2" failed.', verb, from);
  }
  moveFailed(
    report: IBatchReport<ICopyPair>,
    total: number,
    from: string,
    to: string,
    cleanup: string
  ): string {
    return this.trans.__(
      'Could not move "%1" to "%2": %3 of %4 objects failed to copy, so nothing was moved and the originals are intact.\n%5%6',
      from,
      to,
      report.failed.length,
      total,
      describeFailures(report, p => p.srcKey, this.trans),
      cleanup
    );
  }
  copyPartlyFailed(
    report: IBatchReport<ICopyPair>,
    total: number,
    from: string,
    to: string
  ): string {
    return this.trans.__(
      'Copied %1 of %2 objects from "%3" to "%4"; these failed:\n%5',
      report.succeeded.length,
      total,
      from,
      to,
      describeFailures(report, p => p.srcKey, this.trans)
    );
  }
  moveIncomplete(verb: string, from: string): string {
    return this.trans.__('%1 "%2" incomplete.', verb, from);
  }
  originalsLeft(
    removed: IBatchReport<string>,
    total: number,
    from: string,
    to: string
  ): string {
    return this.trans.__(
      'Copied all %1 objects to "%2", but %3 originals under "%4" could not be deleted:\n%5',
      total,
      to,
      removed.failed.length,
      from,
      describeFailures(removed, k => k, this.trans)
    );
  }
  copied(move: boolean, from: string, to: string): string {
    return move
      ? this.trans.__('Moved "%1" to "%2".', from, to)
      : this.trans.__('Copied "%1" to "%2".', from, to);
  }
}
