/**
 * The document factories of the table preview.
 *
 * A JupyterLab document normally loads the whole file into its model. The
 * preview's model factory has `fileFormat: null`: JupyterLab's document
 * context then fetches the file's model *without content* (for an S3 object
 * a HeadObject, never a GetObject), and the rows come from the server's
 * preview endpoint, which reads only the start of the object.
 */
import {
  ABCWidgetFactory,
  DocumentModel,
  DocumentRegistry,
  DocumentWidget
} from '@jupyterlab/docregistry';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { PreviewModel } from './model';
import { PreviewPanel } from './widget';

/** The model factory's name, which the widget factory refers to. */
export const MODEL_NAME = 'smallfry-table-preview';

/**
 * Models of previewed files: empty, never dirty, never loaded with content.
 */
export class PreviewModelFactory implements DocumentRegistry.IModelFactory<DocumentRegistry.IModel> {
  readonly name = MODEL_NAME;
  readonly contentType = 'file' as const;
  /** `null`: the context fetches the file without its content. */
  readonly fileFormat = null;
  readonly collaborative = false;

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    this._disposed = true;
  }

  preferredLanguage(): string {
    return '';
  }

  createNew(
    options: ConstructorParameters<typeof DocumentModel>[0] = {}
  ): DocumentRegistry.IModel {
    return new PreviewDocumentModel({
      ...options,
      collaborationEnabled: false
    });
  }

  private _disposed = false;
}

/**
 * The (empty) model of a previewed file, which the context never saves.
 *
 * JupyterLab's context saves, and on opening makes a checkpoint of, any
 * writable file whose model is not `collaborative`. For a local file a
 * checkpoint is a full copy of it on the server's disk (gigabytes, for a
 * big Parquet file), and saving would write this empty model over it. A
 * model that says it is collaborative makes `context.canSave` false, so
 * neither ever happens; nothing else in JupyterLab's context reads it.
 */
class PreviewDocumentModel extends DocumentModel {
  get collaborative(): boolean {
    return true;
  }
}

/** A document widget whose content is a {@link PreviewPanel}. */
export type PreviewDocument = DocumentWidget<PreviewPanel>;

/**
 * Makes preview tabs; `makeModel` turns a document path into its preview.
 */
export class PreviewWidgetFactory extends ABCWidgetFactory<PreviewDocument> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<PreviewDocument>,
    private readonly _makeModel: (path: string) => PreviewModel,
    private readonly _trans: TranslationBundle
  ) {
    super(options);
  }

  protected createNewWidget(
    context: DocumentRegistry.IContext<DocumentRegistry.IModel>
  ): PreviewDocument {
    const model = this._makeModel(context.path);
    const content = new PreviewPanel(model, this._trans);
    const widget = new DocumentWidget({ content, context });
    widget.addClass('jp-smallfry-PreviewDocument');
    widget.disposed.connect(() => model.dispose());
    void model.load();
    return widget;
  }
}
