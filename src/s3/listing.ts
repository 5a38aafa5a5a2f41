/**
 * What a folder of the S3 drive holds: listings a page at a time (S3 lists
 * at most 1,000 keys per request; a folder may hold millions), the name
 * filter and page count chosen per folder, whole-tree walks, and the
 * existence checks that naming needs (S3 has no folders, only key prefixes).
 */
import type { Contents } from '@jupyterlab/services';

import {
  AwsError,
  BrowserS3Client,
  IObjectInfo,
  IObjectSummary,
  toAwsError
} from './client';
import { invalidRequest, noSuchKey } from './errors';
import type { DriveMessages } from './messages';
import { directoryModel, fileModel } from './models';
import {
  basename,
  IS3Location,
  joinPath,
  RootMap,
  stripSlashes
} from './paths';

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
  /**
   * Whether this is a quick first look into the folder: only its first few
   * entries, with the rest of the page still to be listed (`firstLookSize`).
   */
  partial: boolean;
}

/**
 * Thrown while probing whether an untyped path is a directory.
 */
export class NotADirectory extends Error {}

/**
 * Listings of the drive's folders, with the paging and filter state the
 * user chose for each.
 */
export class Listing {
  constructor(options: Listing.IOptions) {
    this._options = options;
    this._client = options.client;
  }

  /**
   * The last listing state of a directory, if it was listed.
   */
  status(localPath: string): IListingStatus | undefined {
    return this._statuses.get(stripSlashes(localPath));
  }

  /**
   * Ask for one more page of a directory at its next listing.
   */
  loadMore(localPath: string): void {
    this._state(localPath).pages++;
  }

  /**
   * List only the entries of a directory whose names start with `filter`
   * (S3 `Prefix`); a new filter starts again from the first page.
   */
  setFilter(localPath: string, filter: string): void {
    const state = this._state(localPath);
    if (state.filter !== filter) {
      state.filter = filter;
      state.pages = 1;
    }
  }

  /**
   * The drive's top level: the configured roots, then (if allowed) every
   * bucket ListBuckets returns.
   */
  async top(withContent: boolean): Promise<Contents.IModel> {
    if (this._options.listAllBuckets && !this._bucketsDenied) {
      const buckets = await this._client.listBuckets();
      if (buckets === null) {
        // Not allowed: the pinned roots are all there is. Do not ask again.
        this._bucketsDenied = true;
      } else {
        this._options.roots.setBuckets(buckets);
      }
    }
    const content = withContent
      ? this._options.roots.roots.map(root =>
          directoryModel({ path: root.name, name: root.name }, null)
        )
      : null;
    if (content) {
      this._setStatus({
        path: '',
        count: content.length,
        truncated: false,
        filter: '',
        pages: 1,
        partial: false
      });
    }
    return directoryModel({ path: '', name: '' }, content, false);
  }

  /**
   * A directory's model, with as many pages of entries as the user asked
   * for (one key without content, just to tell that it exists).
   *
   * @param mustExist - throw `NotADirectory` rather than a 404 when nothing
   *   is there (the caller then tries the path as a file)
   */
  async directory(
    loc: IS3Location,
    path: string,
    withContent: boolean,
    mustExist = false
  ): Promise<Contents.IModel> {
    const name = basename(path);
    const state = this._state(path);
    const prefix = loc.dirPrefix + state.filter;
    const folders: Contents.IModel[] = [];
    const files: Contents.IModel[] = [];
    let sawMarker = false;
    let token: string | undefined = undefined;
    let pages = 0;
    const wanted = withContent ? state.pages : 1;
    // Going into a folder (rather than listing the same one again), ask for a
    // screenful first: the browser shows it at once and lists the whole page
    // right after. Refreshes of the folder shown go straight to the page.
    const firstLook = this._options.firstLookSize ?? this._options.pageSize;
    const quick =
      withContent &&
      firstLook < this._options.pageSize &&
      state.pages === 1 &&
      stripSlashes(path) !== this._lastListed;
    do {
      const page = await this._client.listLevel(loc.bucket, prefix, {
        maxKeys: withContent ? (quick ? firstLook : this._options.pageSize) : 1,
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
      throw noSuchKey(this._options.messages.doesNotExist(path));
    }
    if (!withContent) {
      return directoryModel({ path, name }, null);
    }
    const content = [...folders, ...files];
    this._lastListed = stripSlashes(path);
    this._setStatus({
      path,
      count: content.length,
      truncated: token !== undefined,
      filter: state.filter,
      pages,
      partial: quick && token !== undefined
    });
    return directoryModel({ path, name }, content);
  }

  /**
   * Every file and folder below a folder, recursively (all listing pages).
   *
   * @returns paths relative to the folder; folders include those implied by
   *   keys as well as marker objects
   */
  async walk(
    loc: IS3Location
  ): Promise<{ files: string[]; folders: string[] }> {
    const files: string[] = [];
    const folders = new Set<string>();
    for (const key of await this.allKeys(loc.bucket, loc.dirPrefix)) {
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
  }

  /** Every key under a prefix, across all listing pages. */
  async allKeys(bucket: string, prefix: string): Promise<string[]> {
    return (await this.allObjects(bucket, prefix)).map(obj => obj.key);
  }

  /** Every object under a prefix, across all listing pages. */
  async allObjects(bucket: string, prefix: string): Promise<IObjectSummary[]> {
    const objects: IObjectSummary[] = [];
    for await (const page of this._client.listAll(bucket, prefix)) {
      objects.push(...page);
    }
    return objects;
  }

  /** The object at a location (HEAD), or null if there is none. */
  async objectAt(loc: IS3Location): Promise<IObjectInfo | null> {
    try {
      return await this._client.head(loc.bucket, loc.key);
    } catch (error) {
      if (toAwsError(error).code === 'NoSuchKey') {
        return null;
      }
      throw error;
    }
  }

  /**
   * Refuse (409) when a file or a folder already has this name.
   */
  async assertFree(loc: IS3Location, path: string): Promise<void> {
    if (
      (await this.objectAt(loc)) ||
      (await this._client.prefixExists(loc.bucket, loc.dirPrefix))
    ) {
      throw new AwsError(
        'AlreadyExists',
        this._options.messages.alreadyExists(path),
        409
      );
    }
  }

  /**
   * First free name `<stem><sep><n><ext>` in a directory (n omitted at first,
   * unless `start` is given).
   */
  async unusedName(
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
        (await this.objectAt({ ...dir, key, rest: name })) !== null ||
        (await this._client.prefixExists(dir.bucket, key + '/'));
      if (!taken) {
        return name;
      }
    }
    throw invalidRequest(this._options.messages.noFreeName());
  }

  private _state(localPath: string): { pages: number; filter: string } {
    const path = stripSlashes(localPath);
    let state = this._states.get(path);
    if (!state) {
      state = { pages: 1, filter: '' };
      this._states.set(path, state);
    }
    return state;
  }

  private _setStatus(status: IListingStatus): void {
    this._statuses.set(status.path, status);
    this._options.onStatus(status);
  }

  private _options: Listing.IOptions;
  private _client: BrowserS3Client;
  private _bucketsDenied = false;
  private _states = new Map<string, { pages: number; filter: string }>();
  private _statuses = new Map<string, IListingStatus>();
  private _lastListed: string | null = null;
}

/**
 * A namespace for Listing statics.
 */
export namespace Listing {
  /**
   * What a listing needs from the drive.
   */
  export interface IOptions {
    /** The S3 client on the gateway. */
    client: BrowserS3Client;
    /** The drive's roots (ListBuckets adds to them). */
    roots: RootMap;
    /** Keys per listing page. */
    pageSize: number;
    /**
     * Entries asked for first when the browser goes into a folder (default:
     * `pageSize`, no quick first look). Painting 1,000 rows costs JupyterLab
     * ~0.3 s, so a screenful first is what makes a big folder feel instant;
     * the status says `partial` until the whole page is listed.
     */
    firstLookSize?: number;
    /** Also show every bucket ListBuckets returns. */
    listAllBuckets: boolean;
    /** The drive's wording. */
    messages: DriveMessages;
    /** Called after each listing with its state (the drive's signal). */
    onStatus: (status: IListingStatus) => void;
  }
}
