/**
 * Moving bytes in and around S3 for the drive: upload sessions (JupyterLab's
 * chunks assembled into one object), copies and moves of a file, and the
 * batch operations on a whole folder (copy, move, delete), which S3 can only
 * do object by object: with progress for big ones, and an honest account of
 * what happened when some objects fail.
 */
import type { Contents } from '@jupyterlab/services';

import type { BrowserS3Client, ICopyPair, IObjectInfo } from './client';
import type { SeenVersions } from './conflicts';
import { BatchError, invalidRequest, noSuchKey } from './errors';
import type { IProgressReporter, IS3DriveFeedback } from './feedback';
import type { Listing } from './listing';
import type { DriveMessages } from './messages';
import {
  contentTypeFor,
  directoryModel,
  fileModel,
  modelBytes
} from './models';
import { basename, IS3Location } from './paths';
import { ChunkedUpload } from './upload';

/**
 * Batch operations on more objects than this show a progress notification.
 */
const PROGRESS_THRESHOLD = 20;

/**
 * The drive's uploads, copies and folder operations.
 */
export class Transfers {
  constructor(options: Transfers.IOptions) {
    this._options = options;
    this._client = options.client;
    this._messages = options.messages;
  }

  /**
   * Add one of JupyterLab's upload chunks (1 first, -1 last) to the upload
   * of `path`; the last one finishes the object.
   *
   * @returns the file's model (its size so far, until the last chunk)
   */
  async appendChunk(
    loc: IS3Location,
    path: string,
    options: Partial<Contents.IModel>
  ): Promise<Contents.IModel> {
    const chunk = options.chunk as number;
    const name = basename(path);
    let upload = this._uploads.get(path);
    if (chunk === 1) {
      if (upload) {
        this._uploads.delete(path);
        await upload.abort();
      }
      upload = new ChunkedUpload({
        client: this._client,
        bucket: loc.bucket,
        key: loc.key,
        contentType: contentTypeFor(name, options)
      });
      this._uploads.set(path, upload);
    } else if (!upload) {
      throw invalidRequest(this._messages.uploadInterrupted(path));
    }
    const current = upload;
    try {
      await current.append(modelBytes(options));
      if (chunk !== -1) {
        return fileModel(
          { path, name },
          { size: current.total, lastModified: new Date(), etag: '' }
        );
      }
      this._uploads.delete(path);
      const etag = await current.finish();
      this._options.versions.remember(path, etag);
      const info = await this._client.head(loc.bucket, loc.key);
      if (!etag) {
        // radosgw 16.2 completes a multipart upload with an empty ETag; the
        // HEAD has the real one, which the next save's conflict check needs.
        this._options.versions.remember(path, info.etag);
      }
      return fileModel({ path, name }, info);
    } catch (error) {
      if (this._uploads.get(path) === current) {
        this._uploads.delete(path);
      }
      await current.abort();
      throw error;
    }
  }

  /**
   * Copy one object (in parts above S3's single-copy limit); to move it,
   * delete the original once the copy is made.
   *
   * @returns the object at its new place as S3 reports it
   */
  async copyFile(
    src: IS3Location,
    dst: IS3Location,
    size: number,
    { move }: { move: boolean }
  ): Promise<IObjectInfo> {
    await this._client.copy({
      srcBucket: src.bucket,
      srcKey: src.key,
      dstBucket: dst.bucket,
      dstKey: dst.key,
      size
    });
    if (move) {
      await this._client.deleteOne(src.bucket, src.key);
    }
    return this._client.head(dst.bucket, dst.key);
  }

  /**
   * Copy or move every object of a folder.
   *
   * A copy that partly fails keeps the copies made (the user sees the
   * partial folder), and the error lists the failures. A move deletes the
   * originals only once every copy succeeded; if any copy fails, the copies
   * made so far are removed and the originals stay as they were.
   */
  async copyFolder(
    src: IS3Location,
    dst: IS3Location,
    srcPath: string,
    dstPath: string,
    { move }: { move: boolean }
  ): Promise<void> {
    const messages = this._messages;
    const objects = await this._options.listing.allObjects(
      src.bucket,
      src.dirPrefix
    );
    if (objects.length === 0) {
      throw noSuchKey(messages.doesNotExist(srcPath));
    }
    const pairs: ICopyPair[] = objects.map(({ key, size }) => ({
      srcBucket: src.bucket,
      srcKey: key,
      dstBucket: dst.bucket,
      dstKey: dst.dirPrefix + key.slice(src.dirPrefix.length),
      size
    }));
    const verb = messages.copyVerb(move);
    const progress = this._startProgress(
      pairs.length,
      messages.copying(verb, pairs.length, srcPath, dstPath)
    );
    const report = await this._client.copyMany(pairs, (done, total) =>
      progress?.update(
        messages.copiedSoFar(verb, srcPath, done, total),
        (move ? 0.9 : 1) * (done / total)
      )
    );
    if (report.failed.length > 0) {
      let cleanup = '';
      if (move && report.succeeded.length > 0) {
        // Undo the partial copy: the move did not happen.
        const undo = await this._client.deleteMany(
          dst.bucket,
          report.succeeded.map(p => p.dstKey)
        );
        if (undo.failed.length > 0) {
          cleanup = messages.partialCopiesLeft(undo.failed.length, dstPath);
        }
      }
      progress?.done(messages.copyFailed(verb, srcPath), false);
      const message = move
        ? messages.moveFailed(report, pairs.length, srcPath, dstPath, cleanup)
        : messages.copyPartlyFailed(report, pairs.length, srcPath, dstPath);
      if (!move) {
        this._showFolder(dstPath);
      }
      throw new BatchError(message, report.failed[0].error);
    }
    if (move) {
      const removed = await this._client.deleteMany(
        src.bucket,
        objects.map(obj => obj.key),
        (done, total) =>
          progress?.update(
            messages.removedSoFar(verb, srcPath, done, total),
            0.9 + 0.1 * (done / total)
          )
      );
      if (removed.failed.length > 0) {
        progress?.done(messages.moveIncomplete(verb, srcPath), false);
        this._showFolder(dstPath);
        throw new BatchError(
          messages.originalsLeft(removed, pairs.length, srcPath, dstPath),
          removed.failed[0].error
        );
      }
    }
    progress?.done(messages.copied(move, srcPath, dstPath), true);
  }

  /**
   * Delete every object under a folder (DeleteObjects, 1,000 at a time).
   */
  async deleteFolder(loc: IS3Location, path: string): Promise<void> {
    const keys = await this._options.listing.allKeys(loc.bucket, loc.dirPrefix);
    if (keys.length === 0) {
      throw noSuchKey(this._messages.doesNotExist(path));
    }
    const progress = this._startProgress(
      keys.length,
      this._messages.deleting(keys.length, path)
    );
    const report = await this._client.deleteMany(
      loc.bucket,
      keys,
      (done, total) =>
        progress?.update(
          this._messages.deletedSoFar(done, total, path),
          done / total
        )
    );
    if (report.failed.length > 0) {
      progress?.done(this._messages.someNotDeleted(), false);
      // Part of the folder is gone: let the file browser show what is left.
      this._options.onChange({
        type: 'delete',
        oldValue: { path },
        newValue: null
      });
      throw new BatchError(
        this._messages.deletePartlyFailed(report, keys.length, path),
        report.failed[0].error
      );
    }
    progress?.done(this._messages.deleted(keys.length, path), true);
  }

  /** A folder now exists (partly) at `path`: let the file browser show it. */
  private _showFolder(path: string): void {
    this._options.onChange({
      type: 'new',
      oldValue: null,
      newValue: directoryModel({ path, name: basename(path) }, null)
    });
  }

  private _startProgress(
    count: number,
    message: string
  ): IProgressReporter | null {
    const { feedback } = this._options;
    if (!feedback || count <= PROGRESS_THRESHOLD) {
      return null;
    }
    return feedback.progress(message);
  }

  private _options: Transfers.IOptions;
  private _client: BrowserS3Client;
  private _messages: DriveMessages;
  private _uploads = new Map<string, ChunkedUpload>();
}

/**
 * A namespace for Transfers statics.
 */
export namespace Transfers {
  /**
   * What transfers need from the drive.
   */
  export interface IOptions {
    /** The S3 client on the gateway. */
    client: BrowserS3Client;
    /** The drive's listings (folder operations list every key first). */
    listing: Listing;
    /** The versions last seen: a finished upload is the new one. */
    versions: SeenVersions;
    /** The drive's wording. */
    messages: DriveMessages;
    /** Where to report progress, if anywhere. */
    feedback: IS3DriveFeedback | null;
    /** Tell the drive's listeners about a change a failure left behind. */
    onChange: (change: Contents.IChangedArgs) => void;
  }
}
