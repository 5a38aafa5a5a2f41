/**
 * Saving without overwriting someone else's change: the drive remembers the
 * version (ETag) of each file as it last read or wrote it, saves on the
 * condition that S3 still holds that version, and says plainly when it does
 * not.
 */
import { AwsError, toAwsError } from './client';
import type { DriveMessages } from './messages';

/**
 * The version of each file this drive last saw, by drive path.
 */
export class SeenVersions {
  /** The ETag last seen for a file, if any. */
  get(path: string): string | undefined {
    return this._etags.get(path);
  }

  /** Remember the ETag a file was read or written at. */
  remember(path: string, etag: string): void {
    this._etags.set(path, etag);
  }

  /** Forget one file (it moved, or is gone behind the drive's back). */
  forget(path: string): void {
    this._etags.delete(path);
  }

  /** Forget a file, or everything under a folder, that was deleted. */
  forgetAll(path: string): void {
    this._etags.delete(path);
    for (const p of [...this._etags.keys()]) {
      if (p.startsWith(path + '/')) {
        this._etags.delete(p);
      }
    }
  }

  /**
   * Follow a folder that moved: documents open inside it keep their
   * conflict check at their new paths.
   */
  moveFolder(oldPath: string, newPath: string): void {
    for (const [p, etag] of [...this._etags]) {
      if (p.startsWith(oldPath + '/')) {
        this._etags.delete(p);
        this._etags.set(newPath + p.slice(oldPath.length), etag);
      }
    }
  }

  /**
   * What a failed conditional save means for the user: a conflict (409)
   * when S3 no longer holds the version last seen, the original error
   * otherwise.
   *
   * @param ifMatch - the ETag the save was conditional on, if any
   */
  saveFailure(
    error: unknown,
    path: string,
    ifMatch: string | undefined,
    messages: DriveMessages
  ): AwsError {
    const err = toAwsError(error);
    if (ifMatch && (err.code === 'PreconditionFailed' || err.status === 412)) {
      return new AwsError(
        'PreconditionFailed',
        messages.changedBySomeoneElse(path),
        409
      );
    }
    if (ifMatch && (err.code === 'NoSuchKey' || err.status === 404)) {
      // Deleted behind our back: forget the ETag so saving again recreates it.
      this.forget(path);
      return new AwsError('NoSuchKey', messages.deletedSinceOpened(path), 409);
    }
    return err;
  }

  private _etags = new Map<string, string>();
}
