/**
 * `S3Drive`: a JupyterLab contents drive backed by S3 through the gateway.
 *
 * This module is the `Contents.IDrive` adapter: it resolves drive paths to
 * S3 locations, hands the work to the parts that do it (`listing.ts`,
 * `files.ts`, `transfers.ts`, with `conflicts.ts` keeping saves from
 * overwriting others' changes), tells JupyterLab what changed, and turns
 * every failure into the `ResponseError` JupyterLab expects, with a message
 * from `messages.ts` or `errors.ts`.
 *
 * No DOM here: the drive is a plain model. Notifications are reported through
 * the `feedback` hooks the plugin passes in, so the drive runs unchanged in
 * tests (Node) and in the browser.
 */
import type { Contents } from '@jupyterlab/services';
import { ServerConnection } from '@jupyterlab/services';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import type { IRootConfig } from '../api';
import { DRIVE_NAME } from '../contract';
import { BrowserS3Client, toAwsError } from './client';
import { SeenVersions } from './conflicts';
import { explainFailure, invalidRequest, responseError } from './errors';
import type { IS3DriveFeedback } from './feedback';
import { FileStore } from './files';
import { IListingStatus, Listing, NotADirectory } from './listing';
import { DriveMessages } from './messages';
import { directoryModel, extname, fileModel } from './models';
import {
  basename,
  IS3Location,
  joinPath,
  RootMap,
  RootNotFoundError,
  stripSlashes
} from './paths';
import { Transfers } from './transfers';

export type { IProgressReporter, IS3DriveFeedback } from './feedback';
export type { IListingStatus } from './listing';
export { PART_SIZE } from './upload';

/**
 * Objects larger than this are not opened whole in the browser by default.
 */
export const DEFAULT_MAX_OPEN_BYTES = 512 * 1024 * 1024;

/**
 * An S3-backed contents drive.
 */
export class S3Drive implements Contents.IDrive {
  /**
   * Create a drive.
   */
  constructor(options: S3Drive.IOptions) {
    this.name = options.name ?? DRIVE_NAME;
    this.serverSettings = options.client.serverSettings;
    this.client = options.client;
    this.pageSize = Math.max(1, Math.min(1000, options.pageSize ?? 1000));
    this.maxOpenBytes = options.maxOpenBytes ?? DEFAULT_MAX_OPEN_BYTES;
    this._roots = new RootMap(options.roots);
    this._feedback = options.feedback ?? null;
    const messages = new DriveMessages(
      (options.translator ?? nullTranslator).load('jupyterlab_smallfry')
    );
    this._messages = messages;
    this._versions = new SeenVersions(messages);
    this._listing = new Listing({
      client: this.client,
      roots: this._roots,
      pageSize: this.pageSize,
      firstLookSize: options.firstLookSize,
      listAllBuckets: options.listAllBuckets ?? false,
      messages,
      onStatus: status => this._listingChanged.emit(status)
    });
    this._files = new FileStore({
      client: this.client,
      versions: this._versions,
      messages,
      maxOpenBytes: this.maxOpenBytes
    });
    this._transfers = new Transfers({
      client: this.client,
      listing: this._listing,
      versions: this._versions,
      messages,
      feedback: this._feedback,
      onChange: change => this._fileChanged.emit(change)
    });
  }

  /** Name of the drive (the path prefix before ":"). */
  readonly name: string;
  /** Jupyter server connection settings. */
  readonly serverSettings: ServerConnection.ISettings;
  /** The S3 client on the gateway. */
  readonly client: BrowserS3Client;
  /** Keys per listing page. */
  readonly pageSize: number;
  /** Largest object opened (read whole into memory) by `get`. */
  readonly maxOpenBytes: number;

  /** Emitted when a file or folder changed through this drive. */
  get fileChanged(): ISignal<this, Contents.IChangedArgs> {
    return this._fileChanged;
  }

  /** Emitted after each directory listing with its truncation state. */
  get listingChanged(): ISignal<this, IListingStatus> {
    return this._listingChanged;
  }

  /** Whether the drive is disposed. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The roots of the drive (top-level folders). */
  get roots(): RootMap {
    return this._roots;
  }

  /**
   * Dispose of the drive.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.client.dispose();
    Signal.clearData(this);
  }

  /**
   * The last listing state of a directory, if it was listed.
   *
   * @param localPath - drive-local path of the directory
   */
  listingStatus(localPath: string): IListingStatus | undefined {
    return this._listing.status(localPath);
  }

  /**
   * Ask for one more page of a directory at its next listing.
   *
   * The caller refreshes the file browser to see it.
   */
  loadMore(localPath: string): void {
    this._listing.loadMore(localPath);
  }

  /**
   * List only the entries of a directory whose names start with `filter`
   * (S3 `Prefix`), so that one can reach any entry of a huge folder.
   */
  setFilter(localPath: string, filter: string): void {
    this._listing.setFilter(localPath, filter);
  }

  /**
   * The `s3://bucket/key` URI of a drive path (folders end with "/").
   */
  s3Uri(localPath: string, isDirectory = false): string {
    const loc = this._roots.resolve(localPath);
    if (!loc) {
      return 's3://';
    }
    const key = isDirectory ? loc.dirPrefix : loc.key;
    return `s3://${loc.bucket}/${key}`;
  }

  /**
   * Every file and folder below a folder, recursively (all listing pages).
   *
   * @param localPath - drive-local path of the folder
   * @returns paths relative to the folder; folders include those implied by
   *   keys as well as marker objects
   */
  async walk(
    localPath: string
  ): Promise<{ files: string[]; folders: string[] }> {
    const path = stripSlashes(localPath);
    try {
      const loc = this._roots.resolve(path);
      if (!loc) {
        throw invalidRequest(this._messages.chooseFolder());
      }
      return await this._listing.walk(loc);
    } catch (error) {
      throw this._fail(error, this._messages.verbs.list, path);
    }
  }

  /**
   * Get a file or directory model.
   */
  async get(
    localPath: string,
    options: Contents.IFetchOptions = {}
  ): Promise<Contents.IModel> {
    const path = stripSlashes(localPath);
    const listing = this._listing;
    try {
      const loc = this._roots.resolve(path);
      if (!loc) {
        return await listing.top(options.content !== false);
      }
      if (loc.rest === '' || options.type === 'directory') {
        return await listing.directory(loc, path, options.content !== false);
      }
      if (options.type === 'file' || options.type === 'notebook') {
        return await this._getFile(loc, path, options);
      }
      // Type unknown: a file browser opening a folder lists it; JupyterLab's
      // pre-save check (content: false) asks about a file. Try the likely one
      // first, then the other.
      if (options.content === false) {
        try {
          return await this._files.stat(loc, path);
        } catch (error) {
          if (toAwsError(error).code !== 'NoSuchKey') {
            throw error;
          }
          return await listing.directory(loc, path, false);
        }
      }
      try {
        return await listing.directory(loc, path, true, true);
      } catch (error) {
        if (!(error instanceof NotADirectory)) {
          throw error;
        }
        return await this._files.read(loc, path, options);
      }
    } catch (error) {
      throw this._fail(error, this._messages.verbs.open, path);
    }
  }

  /**
   * A URL that downloads the file (through the gateway, with the cookie).
   */
  async getDownloadUrl(localPath: string): Promise<string> {
    let loc: IS3Location;
    try {
      loc = this._inside(localPath, this._messages.onlyFilesDownload());
    } catch (error) {
      throw this._fail(error, this._messages.verbs.download, localPath);
    }
    return this.client.downloadUrl(loc.bucket, loc.key);
  }

  /**
   * Create an untitled notebook, file or folder.
   */
  async newUntitled(
    options: Contents.ICreateOptions = {}
  ): Promise<Contents.IModel> {
    const dir = stripSlashes(options.path ?? '');
    const type = options.type ?? 'file';
    try {
      const loc = this._roots.resolve(dir);
      if (!loc) {
        throw invalidRequest(this._messages.nothingAtTop());
      }
      let model: Contents.IModel;
      if (type === 'directory') {
        const name = await this._listing.unusedName(
          loc,
          'Untitled Folder',
          '',
          ' '
        );
        const path = joinPath(dir, name);
        model = await this._putFolder(this._roots.resolve(path)!, path);
      } else {
        let ext = options.ext ?? (type === 'notebook' ? '.ipynb' : '.txt');
        if (ext && !ext.startsWith('.')) {
          ext = '.' + ext;
        }
        const stem = type === 'notebook' ? 'Untitled' : 'untitled';
        const name = await this._listing.unusedName(loc, stem, ext, '');
        const path = joinPath(dir, name);
        model = await this._files.create(
          this._roots.resolve(path)!,
          path,
          type === 'notebook' ? 'notebook' : 'file'
        );
      }
      this._fileChanged.emit({ type: 'new', oldValue: null, newValue: model });
      return model;
    } catch (error) {
      throw this._fail(error, this._messages.verbs.createIn, dir);
    }
  }

  /**
   * Delete a file, or a folder with everything under it.
   */
  async delete(localPath: string): Promise<void> {
    const path = stripSlashes(localPath);
    try {
      const loc = this._inside(path, this._messages.rootNotDeletable(path));
      if (await this._listing.objectAt(loc)) {
        await this.client.deleteOne(loc.bucket, loc.key);
      } else {
        await this._transfers.deleteFolder(loc, path);
      }
      this._versions.forgetAll(path);
      this._fileChanged.emit({
        type: 'delete',
        oldValue: { path },
        newValue: null
      });
    } catch (error) {
      throw this._fail(error, this._messages.verbs.delete, path);
    }
  }

  /**
   * Rename (move) a file or a whole folder.
   *
   * A folder is copied object by object first; the originals are deleted only
   * once every copy succeeded. If any copy fails, the copies made so far are
   * removed and the originals stay as they were.
   */
  async rename(
    oldLocalPath: string,
    newLocalPath: string
  ): Promise<Contents.IModel> {
    const oldPath = stripSlashes(oldLocalPath);
    const newPath = stripSlashes(newLocalPath);
    try {
      const src = this._roots.resolve(oldPath);
      const dst = this._roots.resolve(newPath);
      if (!src || !dst || src.rest === '' || dst.rest === '') {
        throw invalidRequest(this._messages.rootNotRenamable());
      }
      await this._listing.assertFree(dst, newPath);
      const base = { path: newPath, name: basename(newPath) };
      let model: Contents.IModel;
      const source = await this._listing.objectAt(src);
      if (source) {
        const info = await this._transfers.copyFile(src, dst, source.size, {
          move: true
        });
        this._versions.forget(oldPath);
        this._versions.remember(newPath, info.etag);
        model = fileModel(base, info);
      } else {
        await this._transfers.copyFolder(src, dst, oldPath, newPath, {
          move: true
        });
        this._versions.moveFolder(oldPath, newPath);
        model = directoryModel(base, null);
      }
      this._fileChanged.emit({
        type: 'rename',
        oldValue: { path: oldPath },
        newValue: model
      });
      return model;
    } catch (error) {
      throw this._fail(error, this._messages.verbs.rename, oldPath);
    }
  }

  /**
   * Save a file: whole (`PutObject`, conditional on the ETag last seen for
   * this path) or one chunk of an upload (`model.chunk`).
   */
  async save(
    localPath: string,
    options: Partial<Contents.IModel> = {}
  ): Promise<Contents.IModel> {
    const path = stripSlashes(localPath);
    const isChunk = options.chunk !== undefined && options.chunk !== null;
    try {
      const loc = this._inside(path, this._messages.saveInsideFolder());
      let model: Contents.IModel;
      if (isChunk) {
        model = await this._transfers.appendChunk(loc, path, options);
        if (options.chunk !== -1) {
          return model;
        }
      } else if (options.type === 'directory') {
        model = await this._putFolder(loc, path);
      } else {
        model = await this._files.write(loc, path, options);
      }
      this._fileChanged.emit({ type: 'save', oldValue: null, newValue: model });
      return model;
    } catch (error) {
      const action = isChunk
        ? this._messages.verbs.upload
        : this._messages.verbs.save;
      throw this._fail(error, action, path);
    }
  }

  /**
   * Copy a file or folder into a directory, as "<name>-Copy<n><ext>".
   */
  async copy(localPath: string, toLocalDir: string): Promise<Contents.IModel> {
    const path = stripSlashes(localPath);
    const toDir = stripSlashes(toLocalDir);
    try {
      const src = this._roots.resolve(path);
      const dstDir = this._roots.resolve(toDir);
      if (!src || src.rest === '' || !dstDir) {
        throw invalidRequest(this._messages.copyIntoFolder());
      }
      const name = basename(path);
      const isFile = await this._listing.objectAt(src);
      const ext = isFile ? extname(name) : '';
      const stem = ext ? name.slice(0, name.length - ext.length) : name;
      const copyName = await this._listing.unusedName(
        dstDir,
        `${stem}-Copy`,
        ext,
        '',
        1
      );
      const newPath = joinPath(toDir, copyName);
      const dst = this._roots.resolve(newPath)!;
      const base = { path: newPath, name: copyName };
      let model: Contents.IModel;
      if (isFile) {
        const info = await this._transfers.copyFile(src, dst, isFile.size, {
          move: false
        });
        model = fileModel(base, info);
      } else {
        await this._transfers.copyFolder(src, dst, path, newPath, {
          move: false
        });
        model = directoryModel(base, null);
      }
      this._fileChanged.emit({ type: 'new', oldValue: null, newValue: model });
      return model;
    } catch (error) {
      throw this._fail(error, this._messages.verbs.copy, path);
    }
  }

  /**
   * S3 keeps no checkpoints: there is never one to create.
   *
   * A checkpoint model is still returned (JupyterLab expects one) but nothing
   * is stored; `listCheckpoints` stays empty so "Revert to checkpoint" is not
   * offered.
   */
  async createCheckpoint(
    _localPath: string
  ): Promise<Contents.ICheckpointModel> {
    return { id: 'none', last_modified: new Date().toISOString() };
  }

  /** S3 keeps no checkpoints. */
  async listCheckpoints(
    _localPath: string
  ): Promise<Contents.ICheckpointModel[]> {
    return [];
  }

  /** S3 keeps no checkpoints. */
  async restoreCheckpoint(
    _localPath: string,
    _checkpointID: string
  ): Promise<void> {
    // nothing to restore
  }

  /** S3 keeps no checkpoints. */
  async deleteCheckpoint(
    _localPath: string,
    _checkpointID: string
  ): Promise<void> {
    // nothing to delete
  }

  /**
   * A file's model, with its content unless `content` is false (then a
   * HEAD).
   */
  private _getFile(
    loc: IS3Location,
    path: string,
    options: Contents.IFetchOptions
  ): Promise<Contents.IModel> {
    return options.content === false
      ? this._files.stat(loc, path)
      : this._files.read(loc, path, options);
  }

  /**
   * Make a folder exist: S3 has no folders, so a zero-byte "prefix/" marker
   * object stands for an empty one.
   */
  private async _putFolder(
    loc: IS3Location,
    path: string
  ): Promise<Contents.IModel> {
    await this.client.put(loc.bucket, loc.dirPrefix, new Uint8Array(0), {
      contentType: 'application/x-directory'
    });
    return directoryModel({ path, name: basename(path) }, null);
  }

  /**
   * The S3 location of a path inside a bucket or folder; `message` says why
   * the top level or a configured root itself will not do.
   */
  private _inside(path: string, message: string): IS3Location {
    const loc = this._roots.resolve(path);
    if (!loc || loc.rest === '') {
      throw invalidRequest(message);
    }
    return loc;
  }

  /**
   * Turn any failure into a `ResponseError` JupyterLab understands, with a
   * message that says what to do; tell the user about failures they must
   * act on.
   */
  private _fail(error: unknown, action: string, path: string): Error {
    if (error instanceof ServerConnection.ResponseError) {
      return error;
    }
    if (error instanceof RootNotFoundError) {
      return responseError(404, this._messages.noSuchRoot(error.rootName));
    }
    const bucket = safeResolve(this._roots, path)?.bucket ?? '';
    const { status, message, notify, credentials } = explainFailure(
      error,
      action,
      path,
      bucket,
      this._messages.trans
    );
    if (notify && this._feedback) {
      this._feedback.error(message, { credentials });
    }
    return responseError(status, message);
  }

  private _fileChanged = new Signal<this, Contents.IChangedArgs>(this);
  private _listingChanged = new Signal<this, IListingStatus>(this);
  private _isDisposed = false;
  private _roots: RootMap;
  private _feedback: IS3DriveFeedback | null;
  private _messages: DriveMessages;
  private _versions: SeenVersions;
  private _listing: Listing;
  private _files: FileStore;
  private _transfers: Transfers;
}

/**
 * A namespace for S3Drive statics.
 */
export namespace S3Drive {
  /**
   * Options to create a drive.
   */
  export interface IOptions {
    /** The S3 client on the gateway. */
    client: BrowserS3Client;
    /** Pinned roots from the server configuration. */
    roots: (IRootConfig | string)[];
    /** Also show every bucket ListBuckets returns. */
    listAllBuckets?: boolean;
    /** Keys per listing page (1..1000). */
    pageSize?: number;
    /**
     * Entries listed first when the browser goes into a folder, shown at
     * once before the whole page (default: the page size, no quick look).
     */
    firstLookSize?: number;
    /** Drive name (default `DRIVE_NAME` from the contract, "S3"). */
    name?: string;
    /**
     * Largest object `get` reads whole (default 512 MiB): bigger ones are
     * refused with a message instead of exhausting the tab's memory.
     */
    maxOpenBytes?: number;
    /** Where to report errors and progress. */
    feedback?: IS3DriveFeedback;
    /** Translator for messages. */
    translator?: ITranslator;
  }
}

function safeResolve(roots: RootMap, path: string): IS3Location | null {
  try {
    return roots.resolve(path);
  } catch {
    return null;
  }
}
