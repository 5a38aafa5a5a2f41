/**
 * `S3Drive`: a JupyterLab contents drive backed by S3 through the gateway.
 *
 * No DOM here: the drive is a plain model. Notifications are reported through
 * the `feedback` hooks the plugin passes in, so the drive runs unchanged in
 * tests (Node) and in the browser.
 */
import type { Contents } from '@jupyterlab/services';
import { ServerConnection } from '@jupyterlab/services';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import type { IRootConfig } from '../api';
import {
  ICopyPair,
  IObjectInfo,
  IObjectSummary,
  AwsError,
  BrowserS3Client,
  toAwsError
} from './client';
import {
  BatchError,
  describeFailures,
  explainFailure,
  responseError
} from './errors';
import {
  base64ToBytes,
  bytesToBase64,
  decodeUtf8,
  directoryModel,
  encodeUtf8,
  extname,
  fileModel,
  fileType,
  guessMimetype,
  NOTEBOOK_MIMETYPE,
  serializeNotebook
} from './models';
import {
  basename,
  IS3Location,
  joinPath,
  RootMap,
  RootNotFoundError,
  stripSlashes
} from './paths';
import { ChunkedUpload } from './upload';

export { PART_SIZE } from './upload';

/**
 * Objects larger than this are not opened whole in the browser by default.
 */
export const DEFAULT_MAX_OPEN_BYTES = 512 * 1024 * 1024;

/**
 * Batch operations on more objects than this show a progress notification.
 */
const PROGRESS_THRESHOLD = 20;

/**
 * How a long operation reports its progress to the user.
 */
export interface IProgressReporter {
  /** Update the message and the progress (0..1). */
  update(message: string, progress: number): void;
  /** Finish, successfully or not. */
  done(message: string, ok: boolean): void;
}

/**
 * User feedback hooks of the drive (the plugin wires them to `Notification`).
 */
export interface IS3DriveFeedback {
  /**
   * Show an error the user should act on; `credentials` says the fix is in
   * the user's AWS credentials or role.
   */
  error(message: string, options?: { credentials?: boolean }): void;
  /** Start a long operation with progress. */
  progress(message: string): IProgressReporter;
}

/**
 * State of one directory listing, for the "more entries exist" banner.
 */
export interface IListingStatus {
  /** Drive-local path of the directory. */
  path: string;
  /** Number of entries shown. */
  count: number;
  /** Whether S3 has more entries than shown. */
  truncated: boolean;
  /** The server-side name filter in force ("" for none). */
  filter: string;
  /** Number of pages loaded. */
  pages: number;
}

/**
 * An S3-backed contents drive.
 */
export class S3Drive implements Contents.IDrive {
  /**
   * Create a drive.
   */
  constructor(options: S3Drive.IOptions) {
    this.name = options.name ?? 'S3';
    this.serverSettings = options.client.serverSettings;
    this.client = options.client;
    this.pageSize = Math.max(1, Math.min(1000, options.pageSize ?? 1000));
    this.maxOpenBytes = options.maxOpenBytes ?? DEFAULT_MAX_OPEN_BYTES;
    this._listAllBuckets = options.listAllBuckets ?? false;
    this._roots = new RootMap(options.roots);
    this._feedback = options.feedback ?? null;
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyterlab_smallfry'
    );
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
    return this._statuses.get(stripSlashes(localPath));
  }

  /**
   * Ask for one more page of a directory at its next listing.
   *
   * The caller refreshes the file browser to see it.
   */
  loadMore(localPath: string): void {
    const state = this._listState(localPath);
    state.pages++;
  }

  /**
   * List only the entries of a directory whose names start with `filter`
   * (S3 `Prefix`), so that one can reach any entry of a huge folder.
   */
  setFilter(localPath: string, filter: string): void {
    const state = this._listState(localPath);
    if (state.filter !== filter) {
      state.filter = filter;
      state.pages = 1;
    }
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
        throw invalidRequest(this._trans.__('Choose a bucket or folder.'));
      }
      const files: string[] = [];
      const folders = new Set<string>();
      for (const key of await this._allKeys(loc.bucket, loc.dirPrefix)) {
        const rel = key.slice(loc.dirPrefix.length);
        const segments = rel.split('/');
        if (
          segments.slice(0, -1).some(s => s === '' || s === '.' || s === '..')
        ) {
          continue;
        }
        for (let i = 1; i < segments.length; i++) {
          folders.add(segments.slice(0, i).join('/'));
        }
        const last = segments[segments.length - 1];
        if (last !== '' && last !== '.' && last !== '..') {
          files.push(rel);
        }
      }
      return { files, folders: [...folders].sort() };
    } catch (error) {
      throw this._fail(error, this._trans.__('list'), path);
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
    try {
      const loc = this._roots.resolve(path);
      if (!loc) {
        return await this._listTop(options.content !== false);
      }
      if (loc.rest === '' || options.type === 'directory') {
        return await this._listDirectory(loc, path, options.content !== false);
      }
      if (options.type === 'file' || options.type === 'notebook') {
        return await this._getFile(loc, path, options);
      }
      // Type unknown: a file browser opening a folder lists it; JupyterLab's
      // pre-save check (content: false) asks about a file. Try the likely one
      // first, then the other.
      if (options.content === false) {
        try {
          return await this._getFile(loc, path, options);
        } catch (error) {
          if (toAwsError(error).code !== 'NoSuchKey') {
            throw error;
          }
          return await this._listDirectory(loc, path, false);
        }
      }
      try {
        return await this._listDirectory(loc, path, true, true);
      } catch (error) {
        if (!(error instanceof NotADirectory)) {
          throw error;
        }
        return await this._getFile(loc, path, options);
      }
    } catch (error) {
      throw this._fail(error, this._trans.__('open'), path);
    }
  }

  /**
   * A URL that downloads the file (through the gateway, with the cookie).
   */
  async getDownloadUrl(localPath: string): Promise<string> {
    let loc: IS3Location;
    try {
      loc = this._inside(
        localPath,
        this._trans.__('Only files can be downloaded.')
      );
    } catch (error) {
      throw this._fail(error, this._trans.__('download'), localPath);
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
        throw invalidRequest(
          this._trans.__(
            'Open a bucket or folder first: nothing can be created at the top of the S3 browser.'
          )
        );
      }
      let model: Contents.IModel;
      if (type === 'directory') {
        const name = await this._uniqueName(loc, 'Untitled Folder', '', ' ');
        const path = joinPath(dir, name);
        const target = this._roots.resolve(path)!;
        await this.client.put(
          target.bucket,
          target.dirPrefix,
          new Uint8Array(0),
          {
            contentType: 'application/x-directory'
          }
        );
        model = directoryModel({ path, name }, null);
      } else {
        let ext = options.ext ?? (type === 'notebook' ? '.ipynb' : '.txt');
        if (ext && !ext.startsWith('.')) {
          ext = '.' + ext;
        }
        const stem = type === 'notebook' ? 'Untitled' : 'untitled';
        const name = await this._uniqueName(loc, stem, ext, '');
        const path = joinPath(dir, name);
        const target = this._roots.resolve(path)!;
        const body =
          type === 'notebook'
            ? encodeUtf8(serializeNotebook(EMPTY_NOTEBOOK))
            : new Uint8Array(0);
        const etag = await this.client.put(target.bucket, target.key, body, {
          contentType: guessMimetype(
            name,
            type === 'notebook' ? 'json' : 'text'
          )
        });
        this._etags.set(path, etag);
        const info = await this.client.head(target.bucket, target.key);
        model = fileModel({ path, name }, info);
      }
      this._fileChanged.emit({ type: 'new', oldValue: null, newValue: model });
      return model;
    } catch (error) {
      throw this._fail(error, this._trans.__('create a file in'), dir);
    }
  }

  /**
   * Delete a file, or a folder with everything under it.
   */
  async delete(localPath: string): Promise<void> {
    const path = stripSlashes(localPath);
    try {
      const loc = this._inside(
        path,
        this._trans.__(
          '"%1" is an S3 location from the configuration; it cannot be deleted here.',
          path
        )
      );
      if (await this._objectExists(loc)) {
        await this.client.deleteOne(loc.bucket, loc.key);
      } else {
        const keys = await this._allKeys(loc.bucket, loc.dirPrefix);
        if (keys.length === 0) {
          throw new AwsError(
            'NoSuchKey',
            this._trans.__('"%1" does not exist.', path),
            404
          );
        }
        const progress = this._startProgress(
          keys.length,
          this._trans.__('Deleting %1 objects under "%2"…', keys.length, path)
        );
        const report = await this.client.deleteMany(
          loc.bucket,
          keys,
          (done, total) =>
            progress?.update(
              this._trans.__(
                'Deleted %1 of %2 objects under "%3"',
                done,
                total,
                path
              ),
              done / total
            )
        );
        if (report.failed.length > 0) {
          progress?.done(
            this._trans.__('Some objects could not be deleted.'),
            false
          );
          this._fileChanged.emit({
            type: 'delete',
            oldValue: { path },
            newValue: null
          });
          throw new BatchError(
            this._trans.__(
              'Deleted %1 of %2 objects under "%3"; %4 could not be deleted:\n%5',
              report.succeeded.length,
              keys.length,
              path,
              report.failed.length,
              describeFailures(report, k => k, this._trans)
            ),
            report.failed[0].error
          );
        }
        progress?.done(
          this._trans.__('Deleted %1 objects under "%2".', keys.length, path),
          true
        );
      }
      this._forgetETags(path);
      this._fileChanged.emit({
        type: 'delete',
        oldValue: { path },
        newValue: null
      });
    } catch (error) {
      throw this._fail(error, this._trans.__('delete'), path);
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
        throw invalidRequest(
          this._trans.__(
            'S3 locations from the configuration cannot be renamed.'
          )
        );
      }
      await this._checkFree(dst, newPath);
      let model: Contents.IModel;
      const source = await this._objectExists(src);
      if (source) {
        await this.client.copy({
          srcBucket: src.bucket,
          srcKey: src.key,
          dstBucket: dst.bucket,
          dstKey: dst.key,
          size: source.size
        });
        await this.client.deleteOne(src.bucket, src.key);
        const info = await this.client.head(dst.bucket, dst.key);
        this._etags.delete(oldPath);
        this._etags.set(newPath, info.etag);
        model = fileModel({ path: newPath, name: basename(newPath) }, info);
      } else {
        await this._copyFolder(src, dst, oldPath, newPath, true);
        // Documents open inside the folder keep their conflict check.
        for (const [p, etag] of [...this._etags]) {
          if (p.startsWith(oldPath + '/')) {
            this._etags.delete(p);
            this._etags.set(newPath + p.slice(oldPath.length), etag);
          }
        }
        model = directoryModel(
          { path: newPath, name: basename(newPath) },
          null
        );
      }
      this._fileChanged.emit({
        type: 'rename',
        oldValue: { path: oldPath },
        newValue: model
      });
      return model;
    } catch (error) {
      throw this._fail(error, this._trans.__('rename'), oldPath);
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
    try {
      const loc = this._inside(
        path,
        this._trans.__('Files can only be saved inside a bucket or folder.')
      );
      if (options.chunk !== undefined && options.chunk !== null) {
        return await this._saveChunk(loc, path, options);
      }
      if (options.type === 'directory') {
        await this.client.put(loc.bucket, loc.dirPrefix, new Uint8Array(0), {
          contentType: 'application/x-directory'
        });
        const model = directoryModel({ path, name: basename(path) }, null);
        this._fileChanged.emit({
          type: 'save',
          oldValue: null,
          newValue: model
        });
        return model;
      }
      const name = basename(path);
      const body = toBytes(options);
      const ifMatch = this._etags.get(path);
      let etag: string;
      try {
        etag = await this.client.put(loc.bucket, loc.key, body, {
          contentType: contentTypeFor(name, options),
          ifMatch
        });
      } catch (error) {
        const err = toAwsError(error);
        if (
          ifMatch &&
          (err.code === 'PreconditionFailed' || err.status === 412)
        ) {
          throw new AwsError(
            'PreconditionFailed',
            this._trans.__(
              '"%1" was changed on S3 by someone else since you opened it, so it was not saved. Reload it to see their version, or save again to choose whether to overwrite it.',
              path
            ),
            409
          );
        }
        if (ifMatch && (err.code === 'NoSuchKey' || err.status === 404)) {
          // Deleted behind our back: forget the ETag so saving again recreates it.
          this._etags.delete(path);
          throw new AwsError(
            'NoSuchKey',
            this._trans.__(
              '"%1" was deleted on S3 since you opened it, so it was not saved. Save again to create it anew.',
              path
            ),
            409
          );
        }
        throw err;
      }
      this._etags.set(path, etag);
      const info = await this.client.head(loc.bucket, loc.key);
      const model = fileModel(
        { path, name },
        { ...info, etag: info.etag === etag ? info.etag : etag }
      );
      this._fileChanged.emit({ type: 'save', oldValue: null, newValue: model });
      return model;
    } catch (error) {
      const uploadFailed =
        options.chunk !== undefined && options.chunk !== null;
      throw this._fail(
        error,
        uploadFailed ? this._trans.__('upload') : this._trans.__('save'),
        path
      );
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
        throw invalidRequest(
          this._trans.__('Copy a file or folder into a bucket or folder.')
        );
      }
      const name = basename(path);
      const isFile = await this._objectExists(src);
      const ext = isFile ? extname(name) : '';
      const stem = ext ? name.slice(0, name.length - ext.length) : name;
      const copyName = await this._uniqueName(
        dstDir,
        `${stem}-Copy`,
        ext,
        '',
        1
      );
      const newPath = joinPath(toDir, copyName);
      const dst = this._roots.resolve(newPath)!;
      let model: Contents.IModel;
      if (isFile) {
        await this.client.copy({
          srcBucket: src.bucket,
          srcKey: src.key,
          dstBucket: dst.bucket,
          dstKey: dst.key,
          size: isFile.size
        });
        const info = await this.client.head(dst.bucket, dst.key);
        model = fileModel({ path: newPath, name: copyName }, info);
      } else {
        await this._copyFolder(src, dst, path, newPath, false);
        model = directoryModel({ path: newPath, name: copyName }, null);
      }
      this._fileChanged.emit({ type: 'new', oldValue: null, newValue: model });
      return model;
    } catch (error) {
      throw this._fail(error, this._trans.__('copy'), path);
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

  // ---------------------------------------------------------------- listing

  private async _listTop(withContent: boolean): Promise<Contents.IModel> {
    if (this._listAllBuckets && !this._bucketsDenied) {
      const buckets = await this.client.listBuckets();
      if (buckets === null) {
        // Not allowed: the pinned roots are all there is. Do not ask again.
        this._bucketsDenied = true;
      } else {
        this._roots.setBuckets(buckets);
      }
    }
    const content = withContent
      ? this._roots.roots.map(root =>
          directoryModel({ path: root.name, name: root.name }, null)
        )
      : null;
    if (content) {
      this._setStatus({
        path: '',
        count: content.length,
        truncated: false,
        filter: '',
        pages: 1
      });
    }
    return directoryModel({ path: '', name: '' }, content, false);
  }

  private async _listDirectory(
    loc: IS3Location,
    path: string,
    withContent: boolean,
    mustExist = false
  ): Promise<Contents.IModel> {
    const name = basename(path);
    const state = this._listState(path);
    const prefix = loc.dirPrefix + state.filter;
    const folders: Contents.IModel[] = [];
    const files: Contents.IModel[] = [];
    let sawMarker = false;
    let token: string | undefined = undefined;
    let pages = 0;
    const wanted = withContent ? state.pages : 1;
    do {
      const page = await this.client.listLevel(loc.bucket, prefix, {
        maxKeys: withContent ? this.pageSize : 1,
        token
      });
      pages++;
      for (const folder of page.folders) {
        const child = folder.slice(loc.dirPrefix.length, -1);
        if (child === '' || child === '.' || child === '..') {
          // "a//b" or dot segments cannot be a JupyterLab path segment.
          continue;
        }
        folders.push(
          directoryModel({ path: joinPath(path, child), name: child }, null)
        );
      }
      for (const obj of page.files) {
        if (obj.key === loc.dirPrefix) {
          sawMarker = true;
          continue;
        }
        const child = obj.key.slice(loc.dirPrefix.length);
        if (child === '.' || child === '..') {
          continue;
        }
        files.push(
          fileModel({ path: joinPath(path, child), name: child }, obj)
        );
      }
      token = page.nextToken;
    } while (token && pages < wanted);

    const empty = folders.length === 0 && files.length === 0 && !sawMarker;
    if (empty && loc.rest !== '' && state.filter === '') {
      // S3 has no empty folders without a marker: nothing here means no folder.
      if (mustExist) {
        throw new NotADirectory(path);
      }
      throw new AwsError(
        'NoSuchKey',
        this._trans.__('"%1" does not exist.', path),
        404
      );
    }
    if (!withContent) {
      return directoryModel({ path, name }, null);
    }
    const content = [...folders, ...files];
    this._setStatus({
      path,
      count: content.length,
      truncated: token !== undefined,
      filter: state.filter,
      pages
    });
    return directoryModel({ path, name }, content);
  }

  private _listState(localPath: string): { pages: number; filter: string } {
    const path = stripSlashes(localPath);
    let state = this._listStates.get(path);
    if (!state) {
      state = { pages: 1, filter: '' };
      this._listStates.set(path, state);
    }
    return state;
  }

  private _setStatus(status: IListingStatus): void {
    this._statuses.set(status.path, status);
    this._listingChanged.emit(status);
  }

  // ------------------------------------------------------------------ files

  private async _getFile(
    loc: IS3Location,
    path: string,
    options: Contents.IFetchOptions
  ): Promise<Contents.IModel> {
    const name = basename(path);
    if (options.content === false) {
      const info = await this.client.head(loc.bucket, loc.key);
      this._etags.set(path, info.etag);
      return fileModel({ path, name }, info);
    }
    let data;
    try {
      data = await this.client.get(loc.bucket, loc.key, {
        maxBytes: this.maxOpenBytes
      });
    } catch (error) {
      const err = toAwsError(error);
      if (err.code === 'ObjectTooLarge') {
        throw new AwsError(
          'ObjectTooLarge',
          this._trans.__(
            '"%1" is too large to open in JupyterLab (more than %2 MiB). Download it instead, or read it from a kernel.',
            path,
            Math.round(this.maxOpenBytes / (1024 * 1024))
          ),
          413
        );
      }
      throw error;
    }
    this._etags.set(path, data.etag);
    const wantsNotebook =
      options.type === 'notebook' ||
      (options.type === undefined && fileType(name) === 'notebook');
    const format = options.format ?? (wantsNotebook ? 'json' : null);
    if (format === 'json') {
      const text = decodeUtf8(data.body);
      let content: unknown;
      try {
        content = JSON.parse(text ?? '');
      } catch {
        throw new AwsError(
          'InvalidContent',
          this._trans.__(
            '"%1" is not valid JSON, so it cannot be opened as a notebook. Open it with the text editor instead.',
            path
          ),
          400
        );
      }
      const model = fileModel(
        { path, name },
        data,
        content,
        'json',
        NOTEBOOK_MIMETYPE
      );
      return { ...model, type: wantsNotebook ? 'notebook' : model.type };
    }
    if (format === 'base64') {
      return fileModel(
        { path, name },
        data,
        bytesToBase64(data.body),
        'base64',
        guessMimetype(name, 'base64')
      );
    }
    const text = decodeUtf8(data.body);
    if (text === null) {
      if (format === 'text') {
        throw new AwsError(
          'InvalidContent',
          this._trans.__(
            '"%1" is not UTF-8 text. Download it, or open it with a viewer for binary files.',
            path
          ),
          400
        );
      }
      return fileModel(
        { path, name },
        data,
        bytesToBase64(data.body),
        'base64',
        guessMimetype(name, 'base64')
      );
    }
    return fileModel(
      { path, name },
      data,
      text,
      'text',
      guessMimetype(name, 'text')
    );
  }

  /**
   * Assemble JupyterLab's upload chunks (1 first, -1 last) into one object.
   */
  private async _saveChunk(
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
        client: this.client,
        bucket: loc.bucket,
        key: loc.key,
        contentType: contentTypeFor(name, options)
      });
      this._uploads.set(path, upload);
    } else if (!upload) {
      throw invalidRequest(
        this._trans.__(
          'The upload of "%1" was interrupted; upload the file again.',
          path
        )
      );
    }
    const current = upload;
    try {
      await current.append(toBytes(options));
      if (chunk !== -1) {
        return fileModel(
          { path, name },
          { size: current.total, lastModified: new Date(), etag: '' }
        );
      }
      this._uploads.delete(path);
      const etag = await current.finish();
      this._etags.set(path, etag);
      const info = await this.client.head(loc.bucket, loc.key);
      const model = fileModel({ path, name }, info);
      this._fileChanged.emit({ type: 'save', oldValue: null, newValue: model });
      return model;
    } catch (error) {
      if (this._uploads.get(path) === current) {
        this._uploads.delete(path);
      }
      await current.abort();
      throw error;
    }
  }

  // ---------------------------------------------------------------- folders

  private async _copyFolder(
    src: IS3Location,
    dst: IS3Location,
    srcPath: string,
    dstPath: string,
    move: boolean
  ): Promise<void> {
    const objects = await this._allObjects(src.bucket, src.dirPrefix);
    if (objects.length === 0) {
      throw new AwsError(
        'NoSuchKey',
        this._trans.__('"%1" does not exist.', srcPath),
        404
      );
    }
    const pairs: ICopyPair[] = objects.map(({ key, size }) => ({
      srcBucket: src.bucket,
      srcKey: key,
      dstBucket: dst.bucket,
      dstKey: dst.dirPrefix + key.slice(src.dirPrefix.length),
      size
    }));
    const verb = move ? this._trans.__('Moving') : this._trans.__('Copying');
    const progress = this._startProgress(
      pairs.length,
      this._trans.__(
        '%1 %2 objects from "%3" to "%4"…',
        verb,
        pairs.length,
        srcPath,
        dstPath
      )
    );
    const report = await this.client.copyMany(pairs, (done, total) =>
      progress?.update(
        this._trans.__(
          '%1 "%2": copied %3 of %4 objects',
          verb,
          srcPath,
          done,
          total
        ),
        (move ? 0.9 : 1) * (done / total)
      )
    );
    if (report.failed.length > 0) {
      let cleanup = '';
      if (move && report.succeeded.length > 0) {
        // Undo the partial copy: the move did not happen.
        const undo = await this.client.deleteMany(
          dst.bucket,
          report.succeeded.map(p => p.dstKey)
        );
        if (undo.failed.length > 0) {
          cleanup = this._trans.__(
            '\n%1 partial copies under "%2" could not be removed.',
            undo.failed.length,
            dstPath
          );
        }
      }
      progress?.done(this._trans.__('%1 "%2" failed.', verb, srcPath), false);
      const message = move
        ? this._trans.__(
            'Could not move "%1" to "%2": %3 of %4 objects failed to copy, so nothing was moved and the originals are intact.\n%5%6',
            srcPath,
            dstPath,
            report.failed.length,
            pairs.length,
            describeFailures(report, p => p.srcKey, this._trans),
            cleanup
          )
        : this._trans.__(
            'Copied %1 of %2 objects from "%3" to "%4"; these failed:\n%5',
            report.succeeded.length,
            pairs.length,
            srcPath,
            dstPath,
            describeFailures(report, p => p.srcKey, this._trans)
          );
      if (!move) {
        this._fileChanged.emit({
          type: 'new',
          oldValue: null,
          newValue: directoryModel(
            { path: dstPath, name: basename(dstPath) },
            null
          )
        });
      }
      throw new BatchError(message, report.failed[0].error);
    }
    if (move) {
      const removed = await this.client.deleteMany(
        src.bucket,
        objects.map(obj => obj.key),
        (done, total) =>
          progress?.update(
            this._trans.__(
              '%1 "%2": removed %3 of %4 originals',
              verb,
              srcPath,
              done,
              total
            ),
            0.9 + 0.1 * (done / total)
          )
      );
      if (removed.failed.length > 0) {
        progress?.done(
          this._trans.__('%1 "%2" incomplete.', verb, srcPath),
          false
        );
        this._fileChanged.emit({
          type: 'new',
          oldValue: null,
          newValue: directoryModel(
            { path: dstPath, name: basename(dstPath) },
            null
          )
        });
        throw new BatchError(
          this._trans.__(
            'Copied all %1 objects to "%2", but %3 originals under "%4" could not be deleted:\n%5',
            pairs.length,
            dstPath,
            removed.failed.length,
            srcPath,
            describeFailures(removed, k => k, this._trans)
          ),
          removed.failed[0].error
        );
      }
    }
    progress?.done(
      move
        ? this._trans.__('Moved "%1" to "%2".', srcPath, dstPath)
        : this._trans.__('Copied "%1" to "%2".', srcPath, dstPath),
      true
    );
  }

  private async _allKeys(bucket: string, prefix: string): Promise<string[]> {
    return (await this._allObjects(bucket, prefix)).map(obj => obj.key);
  }

  private async _allObjects(
    bucket: string,
    prefix: string
  ): Promise<IObjectSummary[]> {
    const objects: IObjectSummary[] = [];
    for await (const page of this.client.listAll(bucket, prefix)) {
      objects.push(...page);
    }
    return objects;
  }

  // ---------------------------------------------------------------- helpers

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

  private async _objectExists(loc: IS3Location): Promise<IObjectInfo | null> {
    try {
      return await this.client.head(loc.bucket, loc.key);
    } catch (error) {
      if (toAwsError(error).code === 'NoSuchKey') {
        return null;
      }
      throw error;
    }
  }

  private async _checkFree(loc: IS3Location, path: string): Promise<void> {
    if (
      (await this._objectExists(loc)) ||
      (await this.client.prefixExists(loc.bucket, loc.dirPrefix))
    ) {
      throw new AwsError(
        'AlreadyExists',
        this._trans.__('"%1" already exists.', path),
        409
      );
    }
  }

  /**
   * First free name `<stem><sep><n><ext>` in a directory (n omitted at first,
   * unless `start` is given).
   */
  private async _uniqueName(
    dir: IS3Location,
    stem: string,
    ext: string,
    sep: string,
    start?: number
  ): Promise<string> {
    for (let i = start ?? 0; i < 10000; i++) {
      const name =
        i === 0 && start === undefined
          ? `${stem}${ext}`
          : `${stem}${sep}${i}${ext}`;
      const key = dir.dirPrefix + name;
      // A file and a folder of the same name would hide each other.
      const taken =
        (await this._objectExists({ ...dir, key, rest: name })) !== null ||
        (await this.client.prefixExists(dir.bucket, key + '/'));
      if (!taken) {
        return name;
      }
    }
    throw invalidRequest(this._trans.__('No free name found.'));
  }

  private _forgetETags(path: string): void {
    this._etags.delete(path);
    for (const p of [...this._etags.keys()]) {
      if (p.startsWith(path + '/')) {
        this._etags.delete(p);
      }
    }
  }

  private _startProgress(
    count: number,
    message: string
  ): IProgressReporter | null {
    if (!this._feedback || count <= PROGRESS_THRESHOLD) {
      return null;
    }
    return this._feedback.progress(message);
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
      return responseError(
        404,
        this._trans.__('There is no S3 location named "%1".', error.rootName)
      );
    }
    const bucket = safeResolve(this._roots, path)?.bucket ?? '';
    const { status, message, notify, credentials } = explainFailure(
      error,
      action,
      path,
      bucket,
      this._trans
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
  private _listAllBuckets: boolean;
  private _bucketsDenied = false;
  private _feedback: IS3DriveFeedback | null;
  private _trans: TranslationBundle;
  private _etags = new Map<string, string>();
  private _uploads = new Map<string, ChunkedUpload>();
  private _listStates = new Map<string, { pages: number; filter: string }>();
  private _statuses = new Map<string, IListingStatus>();
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
    /** Drive name (default "S3"). */
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

/**
 * A request that cannot be done as asked (HTTP 400), in the user's words.
 */
function invalidRequest(message: string): AwsError {
  return new AwsError('InvalidRequest', message, 400);
}

/**
 * Thrown while probing whether an untyped path is a directory.
 */
class NotADirectory extends Error {}

const EMPTY_NOTEBOOK = {
  cells: [],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5
};

/**
 * The bytes to store for a model being saved.
 */
function toBytes(options: Partial<Contents.IModel>): Uint8Array {
  const content = options.content;
  if (options.format === 'base64') {
    return base64ToBytes(typeof content === 'string' ? content : '');
  }
  if (
    options.format === 'json' ||
    options.type === 'notebook' ||
    (content !== null && typeof content === 'object')
  ) {
    return encodeUtf8(serializeNotebook(content));
  }
  return encodeUtf8(typeof content === 'string' ? content : '');
}

function contentTypeFor(
  name: string,
  options: Partial<Contents.IModel>
): string {
  if (options.type === 'notebook' || extname(name) === '.ipynb') {
    return 'application/x-ipynb+json';
  }
  return guessMimetype(name, options.format ?? 'text');
}

function safeResolve(roots: RootMap, path: string): IS3Location | null {
  try {
    return roots.resolve(path);
  } catch {
    return null;
  }
}
