/**
 * One file of the S3 drive at a time: read whole into a JupyterLab model
 * (notebook, text or base64, within a size the tab can hold), written whole
 * on the condition that S3 still holds the version last seen, or created
 * empty.
 */
import type { Contents } from '@jupyterlab/services';

import { AwsError, BrowserS3Client, toAwsError } from './client';
import type { SeenVersions } from './conflicts';
import type { DriveMessages } from './messages';
import {
  bytesToBase64,
  contentTypeFor,
  decodeUtf8,
  encodeUtf8,
  fileModel,
  fileType,
  guessMimetype,
  modelBytes,
  NOTEBOOK_MIMETYPE,
  serializeNotebook
} from './models';
import { basename, IS3Location } from './paths';

const EMPTY_NOTEBOOK = {
  cells: [],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5
};

/**
 * Reads and writes single files, keeping `versions` up to date.
 */
export class FileStore {
  constructor(options: FileStore.IOptions) {
    this._options = options;
    this._client = options.client;
    this._versions = options.versions;
  }

  /**
   * A file's model without content (a HEAD: size, time, ETag).
   */
  async stat(loc: IS3Location, path: string): Promise<Contents.IModel> {
    const info = await this._client.head(loc.bucket, loc.key);
    this._versions.remember(path, info.etag);
    return fileModel({ path, name: basename(path) }, info);
  }

  /**
   * A file's model with its content, in the format asked for or the one
   * that fits (JSON for notebooks, text for UTF-8, base64 otherwise).
   */
  async read(
    loc: IS3Location,
    path: string,
    options: Contents.IFetchOptions
  ): Promise<Contents.IModel> {
    const name = basename(path);
    let data;
    try {
      data = await this._client.get(loc.bucket, loc.key, {
        maxBytes: this._options.maxOpenBytes
      });
    } catch (error) {
      const err = toAwsError(error);
      if (err.code === 'ObjectTooLarge') {
        throw new AwsError(
          'ObjectTooLarge',
          this._options.messages.tooLargeToOpen(
            path,
            this._options.maxOpenBytes
          ),
          413
        );
      }
      throw error;
    }
    this._versions.remember(path, data.etag);
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
          this._options.messages.notJson(path),
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
    const text = format === 'base64' ? null : decodeUtf8(data.body);
    if (text === null) {
      if (format === 'text') {
        throw new AwsError(
          'InvalidContent',
          this._options.messages.notText(path),
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
   * Write a file whole (`PutObject`), conditional on the ETag last seen for
   * its path, so someone else's change in between is never overwritten.
   */
  async write(
    loc: IS3Location,
    path: string,
    options: Partial<Contents.IModel>
  ): Promise<Contents.IModel> {
    const name = basename(path);
    const body = modelBytes(options);
    const contentType = contentTypeFor(name, options);
    const etag = await this._versions.writeIfUnchanged(
      path,
      ifMatch =>
        this._client.put(loc.bucket, loc.key, body, { contentType, ifMatch }),
      async () => (await this._client.head(loc.bucket, loc.key)).etag
    );
    this._versions.remember(path, etag);
    const info = await this._client.head(loc.bucket, loc.key);
    return fileModel(
      { path, name },
      { ...info, etag: info.etag === etag ? info.etag : etag }
    );
  }

  /**
   * Create an empty file, or a notebook with no cells, at a free name.
   */
  async create(
    loc: IS3Location,
    path: string,
    type: 'notebook' | 'file'
  ): Promise<Contents.IModel> {
    const name = basename(path);
    const body =
      type === 'notebook'
        ? encodeUtf8(serializeNotebook(EMPTY_NOTEBOOK))
        : new Uint8Array(0);
    const etag = await this._client.put(loc.bucket, loc.key, body, {
      contentType: guessMimetype(name, type === 'notebook' ? 'json' : 'text')
    });
    this._versions.remember(path, etag);
    const info = await this._client.head(loc.bucket, loc.key);
    return fileModel({ path, name }, info);
  }

  private _options: FileStore.IOptions;
  private _client: BrowserS3Client;
  private _versions: SeenVersions;
}

/**
 * A namespace for FileStore statics.
 */
export namespace FileStore {
  /**
   * What reading and writing files needs from the drive.
   */
  export interface IOptions {
    /** The S3 client on the gateway. */
    client: BrowserS3Client;
    /** The versions last seen, shared with the rest of the drive. */
    versions: SeenVersions;
    /** The drive's wording. */
    messages: DriveMessages;
    /** Largest object read whole. */
    maxOpenBytes: number;
  }
}
