/**
 * The comparison of two runs in the main area: the parameters and the two
 * `run.json` side by side, then nbdime's notebook diff (cells and outputs).
 *
 * Only `index.ts` imports this module, with `import()`: nbdime and its styles
 * come with it, so none of them is in the JavaScript JupyterLab loads at
 * startup.
 *
 * Stable selectors for UI tests: the tab is `.jp-smallfry-Compare-view`; the
 * tables are `.jp-smallfry-CompareParameters` and
 * `.jp-smallfry-CompareManifests`, their rows `tr[data-key][data-state]`
 * (`same`, `changed`, `added`, `removed`); nbdime's diff is inside
 * `.jp-smallfry-CompareNotebook`.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { type CodeEditor, IEditorServices } from '@jupyterlab/codeeditor';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import {
  ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { Panel, Widget } from '@lumino/widgets';
import { NotebookDiffModel } from 'nbdime/lib/diff/model';
import { NotebookDiffWidget } from 'nbdime/lib/diff/widget';
import type { IDiffEntry } from 'nbdime/lib/diff/diffentries';
import * as React from 'react';

import 'nbdime/lib/styles/variables.css';
import 'nbdime/lib/styles/common.css';
import 'nbdime/lib/styles/diff.css';

import type { ICompareAnswer, ICompareRequest } from './api';
import { compareViewId } from './index';
import { ICompareRow, manifestRows, parameterRows } from './model';

/** What the view needs from JupyterLab to draw cells and outputs. */
export interface ICompareServices {
  /** Renders markdown and outputs, as in notebooks. */
  rendermime: IRenderMimeRegistry;
  /** Makes the read-only editors nbdime shows sources in. */
  editorFactory: CodeEditor.Factory;
  translator?: ITranslator;
}

/** Label of one side: the run id, or the job's notebook. */
export function sideLabel(side: string, trans: TranslationBundle): string {
  return side === 'notebook' ? trans.__("The job's notebook") : side;
}

function SideBySide(props: {
  className: string;
  caption: string;
  rows: ICompareRow[];
  base: string;
  /** The right column's heading; `null`: no right column (nothing to compare). */
  remote: string | null;
  empty: string;
  /** Said under the caption, e.g. why there is no right column. */
  note?: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { rows, trans } = props;
  const both = props.remote !== null;
  return (
    <section className={`jp-smallfry-CompareSection ${props.className}`}>
      <h3>{props.caption}</h3>
      {props.note && <div className="jp-smallfry-Muted">{props.note}</div>}
      {rows.length === 0 ? (
        <div className="jp-smallfry-Muted">{props.empty}</div>
      ) : (
        <table className="jp-smallfry-CompareTable">
          <thead>
            <tr>
              <th />
              <th>{props.base}</th>
              {both && <th>{props.remote}</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map(r => (
              <tr key={r.key} data-key={r.key} data-state={r.state}>
                <th scope="row">{r.label}</th>
                <td data-side="base">{r.base ?? '—'}</td>
                {both && (
                  <td data-side="remote">
                    {r.remote ?? '—'}
                    {r.state !== 'same' && (
                      <span className="jp-smallfry-CompareMark">
                        {' '}
                        {r.state === 'changed'
                          ? trans.__('(changed)')
                          : r.state === 'added'
                            ? trans.__('(only here)')
                            : trans.__('(not here)')}
                      </span>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The parameters and run.json tables, and the "hide unchanged" switch. */
class CompareSummary extends ReactWidget {
  constructor(
    private _answer: ICompareAnswer,
    private _req: ICompareRequest,
    private _trans: TranslationBundle,
    private _onHide: (hide: boolean) => void
  ) {
    super();
    this.addClass('jp-smallfry-CompareSummary');
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const base = sideLabel(this._req.base, trans);
    const remote = sideLabel(this._req.remote, trans);
    return (
      <>
        <SideBySide
          className="jp-smallfry-CompareParameters"
          caption={trans.__('Parameters')}
          rows={parameterRows(this._answer.parameters)}
          base={base}
          remote={remote}
          empty={trans.__('Neither side has parameters.')}
          trans={trans}
        />
        <SideBySide
          className="jp-smallfry-CompareManifests"
          caption={trans.__('Runs (run.json)')}
          rows={manifestRows(this._answer.manifests, trans)}
          base={base}
          remote={this._answer.manifests.remote ? remote : null}
          note={
            this._answer.manifests.remote
              ? undefined
              : trans.__(
                  "The job's notebook is not a run: this run's record alone."
                )
          }
          empty=""
          trans={trans}
        />
        <h3>{trans.__('Notebook: cells and outputs')}</h3>
        <label className="jp-smallfry-Check">
          <input
            type="checkbox"
            className="jp-smallfry-CompareHideUnchanged"
            onChange={e => this._onHide(e.target.checked)}
          />
          {trans.__('Hide unchanged cells')}
        </label>
      </>
    );
  }
}

/**
 * The comparison's content: a scrolling panel of the summary and nbdime's
 * diff. Empty until {@link CompareContent.showAnswer} or `showError`.
 */
export class CompareContent extends Panel {
  constructor(
    readonly request: ICompareRequest,
    private _services: ICompareServices,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-smallfry-CompareContent');
    this._status = new Widget();
    this._status.addClass('jp-smallfry-Muted');
    this._status.node.textContent = _trans.__('Comparing…');
    this.addWidget(this._status);
  }

  /**
   * Draw the server's answer; resolves once nbdime has drawn every cell.
   */
  async showAnswer(answer: ICompareAnswer): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    this._status.dispose();
    const notebook = new Panel();
    // nbdime's styles apply under `nbdime-root`.
    notebook.addClass('nbdime-root');
    notebook.addClass('jp-smallfry-CompareNotebook');
    this.addWidget(
      new CompareSummary(answer, this.request, this._trans, hide =>
        notebook.toggleClass('jp-smallfry-mod-hideUnchanged', hide)
      )
    );
    this.addWidget(notebook);
    const model = new NotebookDiffModel(
      answer.base,
      answer.diff as IDiffEntry[]
    );
    const diff = new NotebookDiffWidget({
      model,
      rendermime: this._services.rendermime,
      editorFactory: this._services.editorFactory,
      translator: this._services.translator,
      // Long unchanged stretches of a cell fold, so the changes stand out.
      collapseIdentical: true
    });
    notebook.addWidget(diff);
    await diff.init();
  }

  /** Say why there is nothing to compare (the server's message). */
  showError(error: unknown): void {
    if (this.isDisposed) {
      return;
    }
    this._status.removeClass('jp-smallfry-Muted');
    this._status.addClass('jp-smallfry-CompareError');
    this._status.node.textContent = this._trans.__(
      'These runs cannot be compared: %1',
      error instanceof Error ? error.message : String(error)
    );
  }

  private _status: Widget;
}

/**
 * The comparison as a main-area tab (`.jp-smallfry-Compare-view`), empty
 * until its content is shown.
 */
export function createCompareView(
  request: ICompareRequest,
  services: ICompareServices,
  trans: TranslationBundle
): MainAreaWidget<CompareContent> {
  const content = new CompareContent(request, services, trans);
  const widget = new MainAreaWidget({ content });
  widget.addClass('jp-smallfry-Compare-view');
  widget.id = compareViewId(request);
  widget.title.label = trans.__(
    '%1: %2 ↔ %3',
    request.jobId,
    shortSide(request.base, trans),
    shortSide(request.remote, trans)
  );
  widget.title.caption = trans.__(
    'Job %1: %2 compared with %3',
    request.jobId,
    sideLabel(request.base, trans),
    sideLabel(request.remote, trans)
  );
  widget.title.closable = true;
  return widget;
}

/** A run id's tail (its time) or "notebook", for the tab's short label. */
function shortSide(side: string, trans: TranslationBundle): string {
  if (side === 'notebook') {
    return trans.__('notebook');
  }
  return side.replace(/^[a-z_]+__/, '').slice(0, 19);
}

/**
 * Open the comparison's tab in `app`'s main area and draw the server's
 * answer (or its refusal) in it; resolves once drawn.
 */
export async function showCompare(
  app: JupyterFrontEnd,
  request: ICompareRequest,
  fetched: { answer: ICompareAnswer | null; error: unknown }
): Promise<void> {
  const [rendermime, editors, translator] = await Promise.all([
    app.resolveRequiredService(IRenderMimeRegistry),
    app.resolveRequiredService(IEditorServices),
    app.resolveOptionalService(ITranslator)
  ]);
  const trans = (translator ?? nullTranslator).load('jupyterlab_smallfry');
  const factory = editors.factoryService;
  const widget = createCompareView(
    request,
    {
      rendermime,
      editorFactory: options => factory.newInlineEditor(options),
      translator: translator ?? undefined
    },
    trans
  );
  app.shell.add(widget, 'main');
  app.shell.activateById(widget.id);
  if (fetched.answer) {
    await widget.content.showAnswer(fetched.answer);
  } else {
    widget.content.showError(fetched.error);
  }
}
