/**
 * The preview tab's view: a summary (URI, size, format, rows, what was
 * read), then two tabs — the first rows and the schema — each a
 * `@lumino/datagrid` grid, the grid JupyterLab's CSV viewer uses.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  BasicKeyHandler,
  BasicMouseHandler,
  BasicSelectionModel,
  DataGrid,
  DataModel,
  RendererMap,
  TextRenderer
} from '@lumino/datagrid';
import type { Message } from '@lumino/messaging';
import { BoxLayout, TabPanel, Widget } from '@lumino/widgets';

import { formatBytes } from '../core/format';
import type { IPreview } from './api';
import { RowsModel, SchemaModel } from './grid';
import type { PreviewModel } from './model';

/**
 * A table preview: follows its model and shows the answer or the error.
 */
export class PreviewPanel extends Widget {
  constructor(
    readonly model: PreviewModel,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-smallfry-Preview');
    const layout = (this.layout = new BoxLayout({ spacing: 0 }));
    this._summary.addClass('jp-smallfry-Preview-summary');
    this._tabs.addClass('jp-smallfry-Preview-tabs');
    // The summary is ordinary DOM that the box layout cannot measure: give it
    // room for its two lines (a longer error message scrolls).
    BoxLayout.setSizeBasis(this._summary, 58);
    BoxLayout.setStretch(this._summary, 0);
    BoxLayout.setStretch(this._tabs, 1);
    layout.addWidget(this._summary);
    layout.addWidget(this._tabs);
    model.changed.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._render, this);
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    // The grids paint on a canvas: they take the theme's colours now.
    this._render();
  }

  private _render(): void {
    const { model } = this;
    const node = this._summary.node;
    node.replaceChildren();
    node.classList.toggle('jp-mod-error', model.state === 'error');
    if (model.state !== 'ready' || !model.preview) {
      const text =
        model.state === 'error'
          ? model.error
          : this._trans.__('Reading the start of %1…', model.describe);
      node.append(element('div', 'jp-smallfry-Preview-message', text));
      this._setGrids(null);
      return;
    }
    const preview = model.preview;
    node.append(
      element(
        'div',
        'jp-smallfry-Preview-uri',
        preview.uri ?? preview.path ?? model.describe
      ),
      element('div', 'jp-smallfry-Preview-facts', this._facts(preview))
    );
    this._setGrids(preview);
  }

  private _facts(preview: IPreview): string {
    const trans = this._trans;
    const facts = [
      trans.__('%1 %2', preview.format.toUpperCase(), preview.compression),
      formatBytes(preview.size),
      trans.__('%1 columns', preview.schema.length),
      preview.num_rows === null
        ? trans.__('first %1 rows shown (total unknown)', preview.rows.length)
        : trans.__(
            '%1 of %2 rows shown',
            preview.rows.length,
            preview.num_rows.toLocaleString()
          ),
      trans.__(
        '%1 read in %2 requests',
        formatBytes(preview.bytes_read),
        preview.requests
      )
    ];
    if (preview.row_groups) {
      facts.push(
        trans.__(
          '%1 of %2 row groups read',
          preview.row_groups.read,
          preview.row_groups.count
        )
      );
    }
    return facts.map(fact => fact.trim()).join(' · ');
  }

  private _setGrids(preview: IPreview | null): void {
    const headings = [
      this._trans.__('type'),
      this._trans.__('nullable'),
      this._trans.__('min'),
      this._trans.__('max'),
      this._trans.__('nulls')
    ];
    const models: [string, DataModel | null][] = [
      [this._trans.__('Rows'), preview ? new RowsModel(preview) : null],
      [
        this._trans.__('Schema'),
        preview ? new SchemaModel(preview, headings) : null
      ]
    ];
    if (this._grids.length === 0) {
      for (const [label] of models) {
        const grid = makeGrid();
        grid.title.label = label;
        this._grids.push(grid);
        this._tabs.addWidget(grid);
      }
    }
    const style = gridStyle(this.node);
    const renderer = cellRenderer(this.node);
    models.forEach(([, dataModel], i) => {
      const grid = this._grids[i];
      grid.style = style;
      grid.cellRenderers = new RendererMap({}, renderer);
      grid.dataModel = dataModel;
      grid.selectionModel = dataModel
        ? new BasicSelectionModel({ dataModel })
        : null;
    });
    this._tabs.setHidden(preview === null);
  }

  private _summary = new Widget();
  private _tabs = new TabPanel();
  private _grids: DataGrid[] = [];
}

function element(tag: string, className: string, text: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

function makeGrid(): DataGrid {
  const grid = new DataGrid({
    defaultSizes: {
      rowHeight: 24,
      columnWidth: 144,
      rowHeaderWidth: 64,
      columnHeaderHeight: 36
    },
    minimumSizes: {
      rowHeight: 20,
      columnWidth: 40,
      rowHeaderWidth: 40,
      columnHeaderHeight: 24
    }
  });
  grid.addClass('jp-smallfry-Preview-grid');
  grid.keyHandler = new BasicKeyHandler();
  grid.mouseHandler = new BasicMouseHandler();
  grid.copyConfig = {
    separator: '\t',
    format: DataGrid.copyFormatGeneric,
    headers: 'all',
    warningThreshold: 1e6
  };
  return grid;
}

function cssVar(node: HTMLElement, name: string, fallback: string): string {
  return getComputedStyle(node).getPropertyValue(name).trim() || fallback;
}

/** The grid's colours from the current theme's `--jp-*` variables. */
function gridStyle(node: HTMLElement): DataGrid.Style {
  return {
    ...DataGrid.defaultStyle,
    voidColor: cssVar(node, '--jp-layout-color0', 'white'),
    backgroundColor: cssVar(node, '--jp-layout-color0', 'white'),
    gridLineColor: cssVar(node, '--jp-border-color3', '#eee'),
    headerBackgroundColor: cssVar(node, '--jp-layout-color2', '#eee'),
    headerGridLineColor: cssVar(node, '--jp-border-color2', '#ccc'),
    selectionFillColor: 'rgba(33, 150, 243, 0.2)',
    selectionBorderColor: cssVar(node, '--jp-brand-color1', '#2196f3')
  };
}

/** Text cells; nulls show as a muted "null", so they differ from "". */
function cellRenderer(node: HTMLElement): TextRenderer {
  const text = cssVar(node, '--jp-ui-font-color1', 'black');
  const muted = cssVar(node, '--jp-ui-font-color3', 'gray');
  const font = cssVar(node, '--jp-code-font-family', 'monospace');
  const size = cssVar(node, '--jp-code-font-size', '13px');
  return new TextRenderer({
    font: `${size} ${font}`,
    textColor: ({ value }) => (value === null ? muted : text),
    format: ({ value }) => (value === null ? 'null' : String(value)),
    elideDirection: 'right'
  });
}
