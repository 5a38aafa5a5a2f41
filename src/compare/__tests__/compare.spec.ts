/**
 * The comparison of two runs, drawn from a real answer: `compare-answer.json`
 * holds a notebook and the diff nbdime's own Python differ made of two runs
 * (`make_compare_fixture.py`), as the server sends them. The tables and
 * nbdime's web components are the real code, with JupyterLab's rendermime
 * and CodeMirror editors.
 */
import {
  RenderMimeRegistry,
  standardRendererFactories
} from '@jupyterlab/rendermime';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { createEditorFactory } from 'nbdime/lib/common/editor';

import { APIError } from '../../api';
import type { ICompareAnswer } from '../api';
import { requestOf } from '../commands';
import { manifestRows, parameterRows, triggerOf } from '../model';
import { CompareContent, createCompareView } from '../view';
import answerJSON from './compare-answer.json';

const ANSWER = answerJSON as unknown as ICompareAnswer;

const trans = nullTranslator.load('jupyterlab_smallfry');
const REQUEST = {
  jobId: 'sales',
  base: ANSWER.manifests.base.run_id!,
  remote: ANSWER.manifests.remote!.run_id!
};

/** The rows of a table as the user reads them: label, left, right, state. */
function table(root: HTMLElement, selector: string): string[][] {
  return Array.from(
    root.querySelectorAll<HTMLTableRowElement>(`${selector} tbody tr`)
  ).map(tr => [
    tr.querySelector('th')!.textContent!,
    tr.querySelector('td[data-side="base"]')!.textContent!,
    tr.querySelector('td[data-side="remote"]')!.textContent!,
    tr.dataset.state!
  ]);
}

/** The comparison drawn in the document. */
async function drawn(answer: ICompareAnswer): Promise<CompareContent> {
  const content = new CompareContent(
    REQUEST,
    {
      rendermime: new RenderMimeRegistry({
        initialFactories: standardRendererFactories
      }),
      editorFactory: createEditorFactory()
    },
    trans
  );
  Widget.attach(content, document.body);
  await content.showAnswer(answer);
  return content;
}

describe('the rows beside the notebook diff', () => {
  it('puts each parameter of either run side by side, saying what changed', () => {
    expect(parameterRows(ANSWER.parameters)).toEqual([
      { key: 'days', label: 'days', base: '7', remote: '7', state: 'same' },
      {
        key: 'region',
        label: 'region',
        base: '"eu"',
        remote: '"us"',
        state: 'changed'
      },
      {
        key: 'dry_run',
        label: 'dry_run',
        base: null,
        remote: 'True',
        state: 'added'
      }
    ]);
  });

  it("shows a run.json's status, times, trigger, error and lineage", () => {
    const rows = Object.fromEntries(
      manifestRows(ANSWER.manifests, trans).map(r => [r.key, r])
    );
    expect(rows.status).toMatchObject({
      base: 'success',
      remote: 'failed',
      state: 'changed'
    });
    expect(rows.duration_seconds).toMatchObject({
      base: '30 s',
      remote: '10 s'
    });
    expect(rows.notebook.state).toBe('same');
    expect(rows.triggered_by).toMatchObject({
      base: 'Run now',
      remote: 'schedule'
    });
    expect(rows.error).toMatchObject({
      base: null,
      remote: "KeyError: 'us' (code cell 4)",
      state: 'added'
    });
    // The same object read, at another version.
    expect(rows['lineage.reads']).toMatchObject({
      base: 's3://demo/sales/2026.parquet  ETag e1  1024 B',
      remote: 's3://demo/sales/2026.parquet  ETag e2  2048 B',
      state: 'changed'
    });
  });

  it("compares nothing in the run.json table against the job's notebook", () => {
    const rows = manifestRows(
      { base: ANSWER.manifests.base, remote: null },
      trans
    );
    expect(rows.map(r => [r.key, r.remote, r.state])).toEqual(
      rows.map(r => [r.key, null, 'same'])
    );
    expect(rows.find(r => r.key === 'status')!.base).toBe('success');
  });

  it('reads what started an older run from its id and try', () => {
    expect(triggerOf({ run_id: 'asset_triggered__2026-11-30' })).toBe(
      'upstream'
    );
    expect(triggerOf({ run_id: 'manual__x', try_number: 2 })).toBe('retry');
    expect(triggerOf({ run_id: 'scheduled__x', triggered_by: 'rerun' })).toBe(
      'rerun'
    );
  });
});

describe('the comparison view', () => {
  afterEach(() => {
    document.body.innerHTML = '';
  });

  it('draws the parameters, the run.json and nbdime’s diff of cells and outputs', async () => {
    const content = await drawn(ANSWER);
    const node = content.node;
    expect(table(node, '.jp-smallfry-CompareParameters')).toEqual([
      ['days', '7', '7', 'same'],
      ['region', '"eu"', '"us" (changed)', 'changed'],
      ['dry_run', '—', 'True (only here)', 'added']
    ]);
    const manifests = table(node, '.jp-smallfry-CompareManifests');
    expect(manifests).toContainEqual([
      'Status',
      'success',
      'failed (changed)',
      'changed'
    ]);

    // nbdime's cells: the four of the base and the one the remote added.
    const notebook = node.querySelector('.jp-smallfry-CompareNotebook')!;
    const cells = notebook.querySelectorAll(
      '.jp-Notebook-diff > .jp-Cell-diff, .jp-Diff-addremchunk .jp-Cell-diff'
    );
    expect(cells.length).toBe(5);
    const added = notebook.querySelectorAll('.jp-Cell-diff.jp-Diff-added');
    expect(added.length).toBe(1);
    expect(added[0].textContent).toContain('done');
    // The changed output: the base's and the remote's text.
    expect(notebook.textContent).toContain('eu 21');
    expect(notebook.textContent).toContain('us 42');
    // The markdown heading is unchanged.
    expect(
      notebook.querySelectorAll('.jp-Cell-diff.jp-Diff-unchanged').length
    ).toBeGreaterThan(0);
  });

  it('hides unchanged cells when asked', async () => {
    const content = await drawn(ANSWER);
    const notebook = content.node.querySelector(
      '.jp-smallfry-CompareNotebook'
    )!;
    const hide = content.node.querySelector<HTMLInputElement>(
      '.jp-smallfry-CompareHideUnchanged'
    )!;
    hide.click();
    expect(notebook.classList.contains('jp-smallfry-mod-hideUnchanged')).toBe(
      true
    );
    hide.click();
    expect(notebook.classList.contains('jp-smallfry-mod-hideUnchanged')).toBe(
      false
    );
  });

  it("shows a run alone in the run.json table when compared with the job's notebook", async () => {
    const content = await drawn({
      ...ANSWER,
      manifests: { base: ANSWER.manifests.base, remote: null }
    });
    const manifests = content.node.querySelector(
      '.jp-smallfry-CompareManifests'
    )!;
    expect(manifests.querySelectorAll('thead th').length).toBe(2);
    expect(manifests.querySelector('td[data-side="remote"]')).toBeNull();
    expect(manifests.textContent).toContain("The job's notebook is not a run");
    // The parameters still compare: the notebook's own against the run's.
    expect(
      content.node.querySelectorAll(
        '.jp-smallfry-CompareParameters td[data-side="remote"]'
      ).length
    ).toBe(3);
  });

  it("says why when the server refuses, in the server's words", () => {
    const view = createCompareView(
      { jobId: 'sales', base: 'manual__gone', remote: 'notebook' },
      {
        rendermime: new RenderMimeRegistry(),
        editorFactory: createEditorFactory()
      },
      trans
    );
    expect(view.hasClass('jp-smallfry-Compare-view')).toBe(true);
    expect(view.title.caption).toBe(
      "Job sales: manual__gone compared with The job's notebook"
    );
    view.content.showError(
      new APIError(
        new Response(null, { status: 404 }),
        "job 'sales' has no run 'manual__gone'"
      )
    );
    expect(
      view.content.node.querySelector('.jp-smallfry-CompareError')!.textContent
    ).toBe(
      "These runs cannot be compared: job 'sales' has no run 'manual__gone'"
    );
    view.dispose();
  });
});

describe('the compare command', () => {
  it('opens at once when its args name the job and both sides', () => {
    expect(requestOf({ jobId: 'a', base: 'r1', remote: 'notebook' })).toEqual({
      jobId: 'a',
      base: 'r1',
      remote: 'notebook'
    });
    expect(requestOf({ jobId: 'a', base: 'r1' })).toBeNull();
    expect(requestOf({})).toBeNull();
  });
});
