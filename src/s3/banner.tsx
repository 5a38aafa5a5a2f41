/**
 * The banner above an S3 listing that says plainly when a folder has more
 * entries than shown, and offers "Load more" and a server-side name filter.
 */
import type { FileBrowser, FileBrowserModel } from '@jupyterlab/filebrowser';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Panel } from '@lumino/widgets';
import * as React from 'react';

import type { IListingStatus, S3Drive } from './drive';

const BANNER_CLASS = 'jp-smallfry-ListingBanner';

/**
 * A banner bound to one S3 drive and one file browser model.
 */
export class ListingBanner extends ReactWidget {
  /**
   * Create a banner.
   */
  constructor(options: ListingBanner.IOptions) {
    super();
    this._drive = options.drive;
    this._model = options.model;
    this._trans = options.trans;
    this.addClass(BANNER_CLASS);
    this._drive.listingChanged.connect(this._onListing, this);
    this._model.pathChanged.connect(this._onPath, this);
    this._sync();
  }

  /**
   * Dispose of the banner and disconnect from the drive and model.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._drive.listingChanged.disconnect(this._onListing, this);
    this._model.pathChanged.disconnect(this._onPath, this);
    super.dispose();
  }

  /**
   * The drive-local path the browser shows.
   */
  get localPath(): string {
    const path = this._model.path;
    const prefix = `${this._drive.name}:`;
    return path.startsWith(prefix) ? path.slice(prefix.length) : path;
  }

  protected render(): JSX.Element | null {
    const status = this._status;
    if (!status) {
      return null;
    }
    const trans = this._trans;
    const message = status.truncated
      ? status.filter
        ? trans.__(
            'Showing the first %1 entries whose names start with “%2”. This folder has more in S3.',
            status.count,
            status.filter
          )
        : trans.__(
            'Showing the first %1 entries. This folder has more in S3: load more, or show only names starting with…',
            status.count
          )
      : trans.__(
          'Showing only the %1 entries whose names start with “%2”.',
          status.count,
          status.filter
        );
    return (
      <>
        <div className="jp-smallfry-ListingBanner-message" role="status">
          {message}
        </div>
        <form
          className="jp-smallfry-ListingBanner-actions"
          onSubmit={event => {
            event.preventDefault();
            this._applyFilter(this._draft);
          }}
        >
          {status.truncated && (
            <button
              type="button"
              className="jp-smallfry-ListingBanner-button jp-smallfry-ListingBanner-loadMore jp-mod-accept"
              onClick={() => this._loadMore()}
            >
              {trans.__('Load more')}
            </button>
          )}
          <input
            className="jp-smallfry-ListingBanner-filter"
            type="text"
            aria-label={trans.__('Show only names starting with')}
            placeholder={trans.__('Names starting with…')}
            defaultValue={status.filter}
            key={`${status.path}\u0000${status.filter}`}
            onChange={event => {
              this._draft = event.target.value;
            }}
          />
          <button type="submit" className="jp-smallfry-ListingBanner-button">
            {trans.__('Filter')}
          </button>
          {status.filter && (
            <button
              type="button"
              className="jp-smallfry-ListingBanner-button jp-smallfry-ListingBanner-clear"
              onClick={() => this._applyFilter('')}
            >
              {trans.__('Clear filter')}
            </button>
          )}
        </form>
      </>
    );
  }

  private _loadMore(): void {
    this._drive.loadMore(this.localPath);
    void this._model.refresh();
  }

  private _applyFilter(filter: string): void {
    this._draft = filter;
    this._drive.setFilter(this.localPath, filter);
    void this._model.refresh();
  }

  private _onListing(_: S3Drive, status: IListingStatus): void {
    if (status.path === this.localPath) {
      this._sync();
    }
  }

  private _onPath(): void {
    this._draft = '';
    this._sync();
  }

  /**
   * Show the banner only when the listing is truncated or filtered.
   */
  private _sync(): void {
    const status = this._drive.listingStatus(this.localPath);
    // A quick first look is followed by the whole page at once: no banner yet.
    const visible =
      !!status && !status.partial && (status.truncated || status.filter !== '');
    this._status = visible ? status! : null;
    this.toggleClass('jp-mod-filtered', visible && !status!.truncated);
    this.setHidden(!visible);
    this.update();
  }

  private _drive: S3Drive;
  private _model: FileBrowserModel;
  private _trans: TranslationBundle;
  private _status: IListingStatus | null = null;
  private _draft = '';
}

/**
 * A namespace for ListingBanner statics.
 */
export namespace ListingBanner {
  /**
   * Put the banner right above the file browser's listing (below the
   * breadcrumbs and the name filter), where the truncated list is.
   */
  export function insertInto(
    browser: FileBrowser,
    banner: ListingBanner
  ): void {
    for (const child of browser.widgets) {
      if (child instanceof Panel) {
        const index = child.widgets.findIndex(w => w.hasClass('jp-DirListing'));
        if (index !== -1) {
          child.insertWidget(index, banner);
          return;
        }
      }
    }
    browser.addWidget(banner);
  }

  /**
   * Options to create a banner.
   */
  export interface IOptions {
    /** The S3 drive. */
    drive: S3Drive;
    /** The model of the file browser showing the drive. */
    model: FileBrowserModel;
    /** Translation bundle. */
    trans: TranslationBundle;
  }
}
