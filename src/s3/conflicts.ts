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
  constructor(private readonly _messages: DriveMessages) {}

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
   * Write a file on the condition that S3 still holds the version last seen
   * for it (none seen: unconditionally).
   *
   * @param put - the write, with the `If-Match` value to send
   * @param currentETag - the ETag S3 holds now (a HEAD)
   * @returns the ETag of what was written
   * @throws a conflict (409) when someone else changed or deleted the file
   */
  async writeIfUnchanged(
    path: string,
    put: (ifMatch: string | undefined) => Promise<string>,
    currentETag: () => Promise<string>
  ): Promise<string> {
    const ifMatch = this.get(path);
    try {
      return await put(ifMatch);
    } catch (error) {
      if (
        !ifMatch ||
        !isPreconditionFailed(error) ||
        !ifMatch.startsWith('"')
      ) {
        throw this._saveFailure(error, path, ifMatch);
      }
      // radosgw 16.2 compares If-Match with the ETag without its quotes, so
      // the quoted form S3 returns (and AWS expects) never matches there.
      // If S3 still holds the version we saw, say it the way it can compare.
      const unquoted = ifMatch.slice(1, -1);
      const unchanged = await currentETag().then(
        etag => etag === ifMatch,
        () => false
      );
      if (!unchanged) {
        throw this._saveFailure(error, path, ifMatch);
      }
      try {
        return await put(unquoted);
      } catch (retryError) {
        throw this._saveFailure(retryError, path, unquoted);
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
  private _saveFailure(
    error: unknown,
    path: string,
    ifMatch: string | undefined
  ): AwsError {
    const err = toAwsError(error);
    if (ifMatch && isPreconditionFailed(err)) {
      return new AwsError(
        'PreconditionFailed',
        this._messages.changedBySomeoneElse(path),
        409
      );
    }
    if (ifMatch && (err.code === 'NoSuchKey' || err.status === 404)) {
      // Deleted behind our back: forget the ETag so saving again recreates it.
      this.forget(path);
      return new AwsError(
        'NoSuchKey',
        this._messages.deletedSinceOpened(path),
        409
      );
    }
    return err;
  }

  private _etags = new Map<string, string>();
}

/** Whether S3 refused a conditional request because its condition failed. */
function isPreconditionFailed(error: unknown): boolean {
  const err = toAwsError(error);
  return err.code === 'PreconditionFailed' || err.status === 412;
}
