/**
 * The Catalog panel (left sidebar): the AWS Glue Data Catalog as a tree of
 * databases → tables → columns, partition keys with sample values, and the
 * table's S3 location; from a table: Preview, Open location, Copy query.
 *
 * Stable selectors for UI tests: the panel is `#smallfry-catalog-panel`;
 * a database is `.jp-smallfry-CatalogDatabase[data-database]`, a table
 * `.jp-smallfry-CatalogTable[data-table="db.table"]`, its columns
 * `.jp-smallfry-CatalogColumn`, its partition keys
 * `.jp-smallfry-CatalogPartitionKey`, its actions `.jp-smallfry-CatalogPreview`,
 * `.jp-smallfry-CatalogOpenLocation`, `.jp-smallfry-CatalogCopyQuery`.
 * The named database connections (`c.SmallFry.connections`) are
 * `.jp-smallfry-CatalogConnection[data-connection]`, with the buttons
 * `.jp-smallfry-CatalogConnectionCopy` and `.jp-smallfry-CatalogConnectionInsert`
 * (right-clicking a table or a connection offers the same, see
 * `schema/snippets.json`).
 */
import { ReactWidget, UseSignal } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  addIcon,
  caretDownIcon,
  caretRightIcon,
  copyIcon,
  folderIcon,
  refreshIcon,
  tableRowsIcon
} from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import type { ITable } from './api';
import { catalogIcon } from './icons';
import { CatalogModel, ITableDetails } from './model';

/** What the panel's table actions do. */
export interface ICatalogActions {
  preview(table: ITable): void;
  openLocation(table: ITable): void;
  copyQuery(table: ITable): void;
  /** Copy (or insert into the notebook) code connecting to `name`. */
  connectionCode(name: string, insert: boolean): void;
}

/** The named database connections `sf.connect()` knows, with their code. */
function Connections(props: {
  names: string[];
  trans: TranslationBundle;
  actions: ICatalogActions;
}): JSX.Element | null {
  const { names, trans, actions } = props;
  if (names.length === 0) {
    return null;
  }
  return (
    <div className="jp-smallfry-CatalogConnections">
      <div className="jp-smallfry-CatalogLabel">{trans.__('Connections')}</div>
      <ul className="jp-smallfry-CatalogTree">
        {names.map(name => (
          <li
            key={name}
            className="jp-smallfry-CatalogConnection jp-smallfry-CatalogRow"
            data-connection={name}
            title={trans.__('sf.connect("%1") in a notebook', name)}
          >
            <span>{name}</span>
            <button
              className="jp-smallfry-CatalogConnectionCopy jp-mod-styled"
              title={trans.__('Copy code')}
              onClick={() => actions.connectionCode(name, false)}
            >
              <copyIcon.react tag="span" />
            </button>
            <button
              className="jp-smallfry-CatalogConnectionInsert jp-mod-styled"
              title={trans.__('Insert into notebook')}
              onClick={() => actions.connectionCode(name, true)}
            >
              <addIcon.react tag="span" />
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Details(props: {
  details: ITableDetails;
  trans: TranslationBundle;
  actions: ICatalogActions;
}): JSX.Element {
  const { details, trans, actions } = props;
  const { table } = details;
  return (
    <div className="jp-smallfry-CatalogDetails">
      <div className="jp-smallfry-CatalogActions">
        <button
          className="jp-smallfry-CatalogPreview jp-mod-styled"
          onClick={() => actions.preview(table)}
          disabled={!table.location}
        >
          <tableRowsIcon.react tag="span" />
          {trans.__('Preview')}
        </button>
        <button
          className="jp-smallfry-CatalogOpenLocation jp-mod-styled"
          onClick={() => actions.openLocation(table)}
          disabled={!table.location}
          title={table.location}
        >
          <folderIcon.react tag="span" />
          {trans.__('Open location')}
        </button>
        <button
          className="jp-smallfry-CatalogCopyQuery jp-mod-styled"
          onClick={() => actions.copyQuery(table)}
          title={trans.__('Copy a SQL query and the sf.table() line')}
        >
          <copyIcon.react tag="span" />
          {trans.__('Copy query')}
        </button>
      </div>
      <div className="jp-smallfry-CatalogLocation" title={table.location}>
        <span className="jp-smallfry-CatalogLabel">{trans.__('Location')}</span>{' '}
        <code>{table.location || trans.__('(none)')}</code>{' '}
        <span className="jp-smallfry-CatalogFormat">{table.format}</span>
      </div>
      <ul className="jp-smallfry-CatalogColumns">
        {table.columns.map(c => (
          <li
            key={c.name}
            className="jp-smallfry-CatalogColumn"
            title={c.comment ?? ''}
          >
            <span className="jp-smallfry-CatalogColumnName">{c.name}</span>
            <span className="jp-smallfry-CatalogType">{c.type}</span>
          </li>
        ))}
      </ul>
      {table.partitionKeys.length > 0 && (
        <div className="jp-smallfry-CatalogPartitions">
          <div className="jp-smallfry-CatalogLabel">
            {details.morePartitions
              ? trans.__(
                  'Partitions (first %1 of more)',
                  details.partitionCount
                )
              : trans.__('Partitions (%1)', details.partitionCount)}
          </div>
          <ul>
            {details.keys.map((k, i) => (
              <li key={k.key} className="jp-smallfry-CatalogPartitionKey">
                <span className="jp-smallfry-CatalogColumnName">{k.key}</span>
                <span className="jp-smallfry-CatalogType">
                  {table.partitionKeys[i]?.type}
                </span>
                <span className="jp-smallfry-CatalogValues">
                  {k.values
                    .slice(0, 8)
                    .map(v => `${v.value} (${v.count})`)
                    .join(', ')}
                  {k.values.length > 8
                    ? trans.__(' and %1 more', k.values.length - 8)
                    : ''}
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function Tree(props: {
  model: CatalogModel;
  trans: TranslationBundle;
  actions: ICatalogActions;
}): JSX.Element {
  const { model, trans, actions } = props;
  const [open, setOpen] = React.useState<Set<string>>(new Set());
  const toggle = (key: string, load: () => void) => {
    const next = new Set(open);
    if (next.has(key)) {
      next.delete(key);
    } else {
      next.add(key);
      load();
    }
    setOpen(next);
  };
  const databases = model.databases;
  if (databases === null) {
    return (
      <div className="jp-smallfry-CatalogEmpty">
        {model.error || trans.__('Loading…')}
      </div>
    );
  }
  if (databases.length === 0) {
    return (
      <div className="jp-smallfry-CatalogEmpty">
        {model.error ||
          trans.__(
            'The catalog has no databases yet. Right-click a folder of Parquet or CSV files in the S3 browser and choose Register as Table.'
          )}
      </div>
    );
  }
  return (
    <ul className="jp-smallfry-CatalogTree">
      {databases.map(db => {
        const dbOpen = open.has(db.name);
        const tables = model.tablesOf(db.name);
        const Caret = dbOpen ? caretDownIcon : caretRightIcon;
        return (
          <li
            key={db.name}
            className="jp-smallfry-CatalogDatabase"
            data-database={db.name}
          >
            <div
              className="jp-smallfry-CatalogRow"
              role="button"
              title={db.description ?? ''}
              onClick={() =>
                toggle(db.name, () => void model.loadTables(db.name))
              }
            >
              <Caret.react tag="span" />
              <catalogIcon.react tag="span" />
              <span>{db.name}</span>
            </div>
            {dbOpen && (
              <ul>
                {model.errorOf(db.name) && (
                  <li className="jp-smallfry-CatalogError">
                    {model.errorOf(db.name)}
                  </li>
                )}
                {tables === undefined && !model.errorOf(db.name) && (
                  <li className="jp-smallfry-CatalogEmpty">
                    {trans.__('Loading…')}
                  </li>
                )}
                {tables?.length === 0 && (
                  <li className="jp-smallfry-CatalogEmpty">
                    {trans.__('No tables')}
                  </li>
                )}
                {tables?.map(t => {
                  const key = `${db.name}.${t.name}`;
                  const tOpen = open.has(key);
                  const details = model.detailsOf(db.name, t.name);
                  const TCaret = tOpen ? caretDownIcon : caretRightIcon;
                  return (
                    <li
                      key={key}
                      className="jp-smallfry-CatalogTable"
                      data-table={key}
                    >
                      <div
                        className="jp-smallfry-CatalogRow"
                        role="button"
                        title={t.location}
                        onClick={() =>
                          toggle(
                            key,
                            () => void model.loadDetails(db.name, t.name)
                          )
                        }
                      >
                        <TCaret.react tag="span" />
                        <tableRowsIcon.react tag="span" />
                        <span>{t.name}</span>
                      </div>
                      {tOpen && model.errorOf(key) && (
                        <div className="jp-smallfry-CatalogError">
                          {model.errorOf(key)}
                        </div>
                      )}
                      {tOpen && details && (
                        <Details
                          details={details}
                          trans={trans}
                          actions={actions}
                        />
                      )}
                    </li>
                  );
                })}
              </ul>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * The Catalog sidebar panel.
 */
export class CatalogPanel extends ReactWidget {
  /**
   * @param options - the model, translations and table actions
   */
  constructor(options: CatalogPanel.IOptions) {
    super();
    this._model = options.model;
    this._trans = options.trans;
    this._actions = options.actions;
    void options.connections?.then(names => {
      this._connections = names;
      this.update();
    });
    this.id = 'smallfry-catalog-panel';
    this.addClass('jp-smallfry-CatalogPanel');
    this.title.icon = catalogIcon;
    this.title.caption = this._trans.__('Catalog');
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Loaded when first shown, so a closed panel costs nothing at start-up.
    if (this._model.databases === null) {
      void this._model.refresh();
    }
  }

  render(): JSX.Element {
    const trans = this._trans;
    return (
      <>
        <div className="jp-smallfry-CatalogHeader">
          <h2>{trans.__('Catalog')}</h2>
          <button
            className="jp-smallfry-CatalogRefresh jp-mod-styled"
            title={trans.__('Refresh')}
            onClick={() => void this._model.refresh()}
          >
            <refreshIcon.react tag="span" />
          </button>
        </div>
        <UseSignal signal={this._model.changed}>
          {() => (
            <Tree model={this._model} trans={trans} actions={this._actions} />
          )}
        </UseSignal>
        <Connections
          names={this._connections}
          trans={trans}
          actions={this._actions}
        />
      </>
    );
  }

  private _model: CatalogModel;
  private _trans: TranslationBundle;
  private _actions: ICatalogActions;
  private _connections: string[] = [];
}

/** Statics of the panel. */
export namespace CatalogPanel {
  /** Options to create the panel. */
  export interface IOptions {
    model: CatalogModel;
    trans: TranslationBundle;
    actions: ICatalogActions;
    /** Names of the database connections (from the server's config). */
    connections?: Promise<string[]>;
  }
}
