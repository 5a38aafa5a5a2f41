/**
 * The code shortcuts plugin, `jupyterlab-smallfry:snippets`: *Copy Code*
 * and *Insert into Notebook* on an S3 object (S3 browser), a catalog table
 * or a named connection (Catalog panel). The context-menu entries and the
 * `dialect` setting are in `schema/snippets.json`; the code comes from
 * `./generate` (checked by jest, run against moto by pytest).
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, Notification } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { addIcon, copyIcon } from '@jupyterlab/ui-components';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import type { Widget } from '@lumino/widgets';

import { CommandIDs, ISmallFry } from '../tokens';
import {
  Dialect,
  DIALECT_LABELS,
  isDialect,
  snippetOf,
  SnippetTarget,
  tableTarget
} from './generate';

/** The S3 browser's id (see `src/s3/plugin.ts`). */
const S3_BROWSER_ID = 'smallfry-s3-browser';
const PLUGIN_ID = 'jupyterlab-smallfry:snippets';
/** What the context menu was opened on: a table, a connection, an S3 item. */
const TARGETS =
  '.jp-smallfry-CatalogTable[data-table], .jp-smallfry-CatalogConnection[data-connection], .jp-smallfry-S3Browser .jp-DirListing-item';

/**
 * The part of a notebook panel we use. JupyterLab's notebook commands do
 * the inserting; the new cell's text is set on its model, which exists even
 * when the notebook has not rendered the cell yet.
 */
interface INotebookLike extends Widget {
  content: {
    activeCell: { model: { sharedModel: { setSource(s: string): void } } };
  };
}

export const snippetsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Copy Code and Insert into Notebook on S3 objects, catalog tables and named connections, in the dialect of your choice.',
  autoStart: true,
  requires: [ISmallFry],
  optional: [IFileBrowserFactory, ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    smallfry: ISmallFry,
    browsers: IFileBrowserFactory | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_smallfry');
    let dialect: Dialect = 'pandas';
    if (settingRegistry) {
      void settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const read = () => {
            const value = settings.get('dialect').composite;
            dialect = isDialect(value) ? value : 'pandas';
          };
          read();
          settings.changed.connect(read);
        })
        .catch(error => console.warn('Small Fry code shortcuts:', error));
    }

    /** The S3 object selected in the S3 browser, as `s3://`, or null. */
    const selectedObject = async (): Promise<string | null> => {
      const browser = browsers?.tracker.find(w => w.id === S3_BROWSER_ID);
      const items = browser ? Array.from(browser.selectedItems()) : [];
      if (items.length !== 1 || items[0].type === 'directory') {
        return null;
      }
      const drive = await smallfry.drive;
      const prefix = `${drive.name}:`;
      const path = items[0].path.startsWith(prefix)
        ? items[0].path.slice(prefix.length)
        : items[0].path;
      return drive.s3Uri(path, false);
    };

    /** What the command acts on: its args, else what was right-clicked. */
    const targetOf = async (
      args: ReadonlyPartialJSONObject
    ): Promise<SnippetTarget | null> => {
      if (typeof args.uri === 'string') {
        return { kind: 'object', uri: args.uri };
      }
      if (typeof args.table === 'string') {
        return tableTarget(args.table);
      }
      if (typeof args.connection === 'string') {
        return { kind: 'connection', name: args.connection };
      }
      const node = app.contextMenuHitTest(n => n.matches(TARGETS));
      if (node?.dataset.table) {
        return tableTarget(node.dataset.table);
      }
      if (node?.dataset.connection) {
        return { kind: 'connection', name: node.dataset.connection };
      }
      const uri = node ? await selectedObject() : null;
      return uri === null ? null : { kind: 'object', uri };
    };

    /** The code for the command's target, or null (the user was told). */
    const codeOf = async (
      args: ReadonlyPartialJSONObject
    ): Promise<string | null> => {
      try {
        const target = await targetOf(args);
        if (target === null) {
          Notification.warning(
            trans.__(
              'Right-click an S3 object, a catalog table or a connection first.'
            ),
            { autoClose: 5000 }
          );
          return null;
        }
        return snippetOf(target, dialect);
      } catch (error) {
        Notification.error(String((error as Error)?.message ?? error), {
          autoClose: 6000
        });
        return null;
      }
    };

    const describedBy = {
      args: {
        type: 'object',
        properties: {
          uri: { type: 'string', description: 'an s3://bucket/key URI' },
          table: { type: 'string', description: 'a "database.table" name' },
          connection: { type: 'string', description: 'a connection name' }
        }
      }
    };

    app.commands.addCommand(CommandIDs.copyCode, {
      label: () => trans.__('Copy Code (%1)', DIALECT_LABELS[dialect]),
      caption: trans.__(
        'Copy Python code that reads this in a notebook (dialect: Settings › Small Fry: Code shortcuts)'
      ),
      icon: copyIcon,
      describedBy,
      execute: async args => {
        const code = await codeOf(args);
        if (code === null) {
          return;
        }
        Clipboard.copyToSystem(code);
        Notification.info(trans.__('Copied %1 code', DIALECT_LABELS[dialect]), {
          autoClose: 3000
        });
      }
    });

    app.commands.addCommand(CommandIDs.insertCode, {
      label: () =>
        trans.__('Insert into Notebook (%1)', DIALECT_LABELS[dialect]),
      caption: trans.__(
        'Insert Python code that reads this below the active cell of the current notebook'
      ),
      icon: addIcon,
      describedBy,
      execute: async args => {
        // JupyterLab's notebook commands are enabled only when a notebook
        // is the current main-area widget: that is the one we insert into.
        const panel = app.shell.currentWidget as INotebookLike | null;
        if (
          !app.commands.isEnabled('notebook:insert-cell-below') ||
          !panel?.content?.activeCell
        ) {
          Notification.warning(
            trans.__(
              'Open a notebook (or bring it to the front) first: the code goes below its active cell.'
            ),
            { autoClose: 6000 }
          );
          return;
        }
        const code = await codeOf(args);
        if (code === null) {
          return;
        }
        await app.commands.execute('notebook:insert-cell-below');
        await app.commands.execute('notebook:change-cell-to-code');
        panel.content.activeCell.model.sharedModel.setSource(code);
        app.shell.activateById(panel.id);
      }
    });
  }
};
