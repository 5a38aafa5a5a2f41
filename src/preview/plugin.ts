/**
 * The table preview plugin, `jupyterlab-smallfry:preview`: double-click a
 * Parquet, CSV/TSV (also `.gz`) or JSON Lines file in the S3 browser or the
 * local file browser (or *Open With → Table preview*) and a main-area tab
 * shows its schema, statistics and first rows, read on the server from only
 * the start of the object.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { WidgetTracker } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { spreadsheetIcon } from '@jupyterlab/ui-components';

import { ISmallFry } from '../tokens';
import { fetchPreview } from './api';
import {
  PreviewDocument,
  PreviewModelFactory,
  PreviewWidgetFactory,
  MODEL_NAME
} from './factory';
import { PreviewModel } from './model';
import { previewSource } from './source';

/** The widget factory's name (what *Open With* and `docmanager:open` use). */
export const FACTORY_NAME = 'Table preview';

/** File types JupyterLab does not know, registered here. */
const PARQUET = 'smallfry-parquet';
const GZIPPED_TEXT = 'smallfry-gzipped-table';

/** Every file type the preview opens by default (JupyterLab's own included). */
const FILE_TYPES = ['csv', 'tsv', 'jsonl', PARQUET, GZIPPED_TEXT];

export const previewPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-smallfry:preview',
  description:
    'Preview Parquet, CSV/TSV and JSON Lines files of S3 or the local disk without downloading them: schema, statistics and the first rows in a data grid.',
  autoStart: true,
  requires: [ISmallFry],
  optional: [ITranslator, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    smallfry: ISmallFry,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_smallfry');
    const registry = app.docRegistry;
    registry.addFileType({
      name: PARQUET,
      displayName: trans.__('Parquet File'),
      extensions: ['.parquet', '.pq', '.parq'],
      mimeTypes: ['application/vnd.apache.parquet'],
      contentType: 'file',
      fileFormat: 'base64',
      icon: spreadsheetIcon
    });
    registry.addFileType({
      name: GZIPPED_TEXT,
      displayName: trans.__('Compressed Table'),
      extensions: ['.csv.gz', '.tsv.gz', '.jsonl.gz', '.ndjson.gz'],
      mimeTypes: ['application/gzip'],
      contentType: 'file',
      fileFormat: 'base64',
      icon: spreadsheetIcon
    });

    // The S3 drive's roots, once the configuration is in. A tab restored at
    // start-up may open before that: its preview waits for them. Without
    // the server extension an S3 path names nothing (local paths still do).
    const located = Promise.all([smallfry.roots, smallfry.config]).then(
      ([roots, config]) => ({ roots, listAll: config.list_all_buckets }),
      () => null
    );
    const makeModel = (path: string): PreviewModel =>
      new PreviewModel(
        located.then(found =>
          previewSource(path, found?.roots ?? null, found?.listAll ?? false)
        ),
        source => fetchPreview(source, smallfry.serverSettings),
        path
      );

    registry.addModelFactory(new PreviewModelFactory());
    const factory = new PreviewWidgetFactory(
      {
        name: FACTORY_NAME,
        label: trans.__('Table preview'),
        modelName: MODEL_NAME,
        fileTypes: FILE_TYPES,
        defaultFor: FILE_TYPES,
        // Ahead of the CSV viewer whatever the plugins' order: a default
        // "rendered" factory wins over a plain default one.
        defaultRendered: FILE_TYPES,
        readOnly: true,
        translator: translator ?? nullTranslator
      },
      makeModel,
      trans
    );
    factory.widgetCreated.connect((_, widget) => {
      widget.title.icon = spreadsheetIcon;
      void tracker.add(widget);
      widget.context.pathChanged.connect(() => void tracker.save(widget));
    });
    registry.addWidgetFactory(factory);
    if (settingRegistry) {
      preferPreview(app, settingRegistry);
    }

    const tracker = new WidgetTracker<PreviewDocument>({
      namespace: 'smallfry-preview'
    });
    if (restorer) {
      void restorer.restore(tracker, {
        command: 'docmanager:open',
        args: widget => ({ path: widget.context.path, factory: FACTORY_NAME }),
        name: widget => widget.context.path
      });
    }
  }
};

/** The document manager's plugin, whose `defaultViewers` setting users edit. */
const DOCMANAGER_PLUGIN = '@jupyterlab/docmanager-extension:plugin';

/**
 * Make the preview the default viewer of its file types, except where the
 * user chose another in the document manager's `defaultViewers` setting.
 *
 * JupyterLab's CSV viewer is also a default for CSV and TSV, and whichever
 * plugin registers last wins; the document manager resets every file type's
 * default to that setting once the app is restored and on each change. So
 * the preview is set just after it, each time (a user can still pick
 * another viewer with Open With, or name one in `defaultViewers`).
 */
function preferPreview(
  app: JupyterFrontEnd,
  settingRegistry: ISettingRegistry
): void {
  const apply = (settings: ISettingRegistry.ISettings): void => {
    // After the document manager's own handler of the same event.
    setTimeout(() => {
      const chosen =
        (settings.composite['defaultViewers'] as Record<string, string>) ?? {};
      for (const fileType of FILE_TYPES) {
        if (!(fileType in chosen)) {
          app.docRegistry.setDefaultWidgetFactory(fileType, FACTORY_NAME);
        }
      }
    }, 0);
  };
  void Promise.all([settingRegistry.load(DOCMANAGER_PLUGIN), app.restored])
    .then(([settings]) => {
      apply(settings);
      settings.changed.connect(apply);
    })
    .catch(error =>
      console.warn('Small Fry: could not make the preview the default', error)
    );
}
