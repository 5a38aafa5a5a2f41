/**
 * The catalog plugin, `jupyterlab-smallfry:catalog`: the Catalog panel in
 * the left sidebar (the AWS Glue Data Catalog through the gateway) and
 * *Register as Table* on a folder of the S3 browser (its context-menu entry
 * is declared in `schema/catalog.json`).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, ICommandPalette, Notification } from '@jupyterlab/apputils';
import { FileBrowser, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

import { DRIVE_NAME } from '../contract';
import { CommandIDs, ISmallFry } from '../tokens';
import { CatalogAPI, ITable } from './api';
import { catalogIcon } from './icons';
import { CatalogError, CatalogModel, queriesOf } from './model';
import { CatalogPanel } from './panel';

/** The S3 browser's id (see `src/s3/plugin.ts`). */
const S3_BROWSER_ID = 'smallfry-s3-browser';
/** The table preview's widget factory (see `src/preview/plugin.ts`). */
const PREVIEW_FACTORY = 'Table preview';

export const catalogPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-smallfry:catalog',
  description:
    'The Catalog panel: AWS Glue databases, tables, columns and partitions; preview a table, open its location, copy a query; register an S3 folder as a table.',
  autoStart: true,
  requires: [ISmallFry],
  optional: [
    IFileBrowserFactory,
    ILayoutRestorer,
    ICommandPalette,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    smallfry: ISmallFry,
    browsers: IFileBrowserFactory | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_smallfry');
    const api = new CatalogAPI(smallfry);
    const model = new CatalogModel(api);
    const s3Browser = (): FileBrowser | undefined =>
      browsers?.tracker.find(w => w.id === S3_BROWSER_ID);

    /** The S3 browser's path of an `s3://` URI, or null (with a message). */
    const drivePath = async (uri: string): Promise<string | null> => {
      const [roots, config] = await Promise.all([
        smallfry.roots,
        smallfry.config
      ]);
      const path = roots.pathOfUri(uri, config.list_all_buckets);
      if (path === null) {
        Notification.warning(
          trans.__(
            '%1 is in no bucket the S3 browser shows: ask an administrator to add it to c.SmallFry.roots.',
            uri
          ),
          { autoClose: 6000 }
        );
      }
      return path === null ? null : `${DRIVE_NAME}:${path}`;
    };

    const actions = {
      openLocation: async (table: ITable) => {
        const path = await drivePath(table.location);
        const browser = s3Browser();
        if (path === null || !browser) {
          return;
        }
        app.shell.activateById(browser.id);
        // cd() resolves against the folder shown: an absolute local path.
        await browser.model
          .cd(`/${path.slice(DRIVE_NAME.length + 1)}`)
          .catch(error =>
            Notification.error(String(error?.message ?? error), {
              autoClose: 6000
            })
          );
      },
      preview: async (table: ITable) => {
        // The preview opens files: the table's first data file shows its
        // columns and first rows (a partitioned table's first partition).
        const match = /^s3a?:\/\/([^/]+)\/(.*)$/.exec(table.location);
        if (!match) {
          return;
        }
        const [, bucket, rawPrefix] = match;
        const prefix =
          rawPrefix === '' || rawPrefix.endsWith('/')
            ? rawPrefix
            : `${rawPrefix}/`;
        try {
          const { folderLayout } = await import('./register');
          const layout = folderLayout(
            prefix,
            await api.listKeys(bucket, prefix)
          );
          const path = await drivePath(`s3://${bucket}/${layout.sample}`);
          if (path !== null) {
            await app.commands.execute('docmanager:open', {
              path,
              factory: PREVIEW_FACTORY
            });
          }
        } catch (error) {
          Notification.error(
            trans.__(
              'Cannot preview %1.%2: %3',
              table.database,
              table.name,
              String((error as Error)?.message ?? error)
            ),
            { autoClose: 8000 }
          );
        }
      },
      copyQuery: (table: ITable) => {
        const text = queriesOf(table.database, table.name).join('\n');
        Clipboard.copyToSystem(text);
        Notification.info(trans.__('Copied %1', text.split('\n')[0]), {
          autoClose: 3000
        });
      },
      connectionCode: (name: string, insert: boolean) =>
        void app.commands.execute(
          insert ? CommandIDs.insertCode : CommandIDs.copyCode,
          { connection: name }
        )
    };

    const panel = new CatalogPanel({
      model,
      trans,
      actions,
      connections: smallfry.config.then(
        config => config.connections ?? [],
        () => []
      )
    });
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, 'smallfry-catalog-panel');

    app.commands.addCommand(CommandIDs.openCatalog, {
      label: trans.__('Show Data Catalog'),
      icon: catalogIcon,
      execute: () => app.shell.activateById(panel.id)
    });
    palette?.addItem({
      command: CommandIDs.openCatalog,
      category: trans.__('Small Fry')
    });

    app.commands.addCommand(CommandIDs.registerTable, {
      label: trans.__('Register as Table…'),
      caption: trans.__(
        'Create a catalog table over this folder of Parquet or CSV files'
      ),
      icon: catalogIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      isVisible: () => selectedFolder(s3Browser()) !== null,
      execute: async () => {
        const folder = selectedFolder(s3Browser());
        if (folder === null) {
          return;
        }
        const roots = await smallfry.roots;
        const local = folder.slice(DRIVE_NAME.length + 1);
        const location = roots.resolve(local);
        if (!location) {
          return;
        }
        await registerFolder(
          app,
          model,
          trans,
          location.bucket,
          location.dirPrefix,
          () => app.shell.activateById(panel.id)
        );
      }
    });
  }
};

/** The drive path of the one folder selected in the S3 browser, or null. */
function selectedFolder(browser: FileBrowser | undefined): string | null {
  if (!browser) {
    return null;
  }
  const items = Array.from(browser.selectedItems());
  return items.length === 1 && items[0].type === 'directory'
    ? items[0].path
    : null;
}

/**
 * Draft the table of a folder, let the user edit it, create it; on a
 * refusal, show the dialog again with the problems.
 */
async function registerFolder(
  app: JupyterFrontEnd,
  model: CatalogModel,
  trans: TranslationBundle,
  bucket: string,
  prefix: string,
  showPanel: () => void
): Promise<void> {
  const reading = Notification.emit(
    trans.__('Reading s3://%1/%2…', bucket, prefix),
    'in-progress',
    { autoClose: false }
  );
  let plan;
  try {
    if (model.databases === null) {
      await model.refresh();
    }
    plan = await model.draft(bucket, prefix);
    Notification.dismiss(reading);
  } catch (error) {
    Notification.update({
      id: reading,
      message: trans.__(
        'Cannot register s3://%1/%2 as a table: %3',
        bucket,
        prefix,
        String((error as Error)?.message ?? error)
      ),
      type: 'error',
      autoClose: false
    });
    return;
  }
  // The dialog loads with its first use, not with JupyterLab.
  const { editPlan } = await import('./dialog');
  let problems: string[] = [];
  for (;;) {
    const databases = (model.databases ?? []).map(d => d.name);
    const edited = await editPlan(plan, databases, problems, trans);
    if (edited === null) {
      return;
    }
    plan = edited;
    try {
      const done = await model.register(plan);
      showPanel();
      if (done.partitionErrors.length > 0) {
        Notification.warning(
          trans.__(
            'Created %1.%2, but Glue refused some partitions: %3',
            done.database,
            done.name,
            done.partitionErrors.slice(0, 3).join('; ')
          ),
          { autoClose: false }
        );
      } else {
        Notification.success(
          trans.__(
            'Created the table %1.%2 (%3 partitions)',
            done.database,
            done.name,
            done.partitions
          ),
          { autoClose: 5000 }
        );
      }
      return;
    } catch (error) {
      problems =
        error instanceof CatalogError
          ? error.message.split('\n')
          : [String((error as Error)?.message ?? error)];
    }
  }
}
