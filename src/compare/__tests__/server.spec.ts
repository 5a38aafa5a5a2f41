/**
 * The comparison against the real Jupyter server the jest global setup
 * starts: two runs are left where finished runs leave them (run.json and
 * output.ipynb in the job's runs folder), the server diffs them with nbdime's
 * Python differ, and nbdime's web components draw its answer.
 */
import * as fs from 'fs';
import * as path from 'path';

import {
  RenderMimeRegistry,
  standardRendererFactories
} from '@jupyterlab/rendermime';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { createEditorFactory } from 'nbdime/lib/common/editor';

import { APIError } from '../../api';
import { IJob, JobsAPI } from '../../schedule/api';
import { fetchCompare } from '../api';
import { CompareContent } from '../view';
import {
  serverSettings,
  uniqueName as unique
} from '../../__tests__/harness/connection';

const settings = serverSettings();
const trans = nullTranslator.load('jupyterlab_smallfry');

/** A notebook as papermill leaves it: the injected parameters, one output. */
function executed(region: string, printed: string): object {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } },
    cells: [
      {
        id: 'params',
        cell_type: 'code',
        metadata: { tags: ['parameters'] },
        source: "region = 'EU'",
        outputs: [],
        execution_count: 1
      },
      {
        id: 'injected',
        cell_type: 'code',
        metadata: { tags: ['injected-parameters'] },
        source: `region = '${region}'`,
        outputs: [],
        execution_count: 2
      },
      {
        id: 'report',
        cell_type: 'code',
        metadata: {},
        source: 'print(region, 40 + 2)',
        outputs: [{ output_type: 'stream', name: 'stdout', text: printed }],
        execution_count: 3
      }
    ]
  };
}

/** Leave a finished run where the server finds it (the job's output template). */
function writeRun(
  job: IJob,
  runId: string,
  region: string,
  printed: string,
  status: string
): void {
  const ownerKey = encodeURIComponent(job.spec.owner!).replace(/%40/g, '@');
  const folder = job.spec
    .output!.uri_template!.replace('{owner}', ownerKey)
    .replace('{job_id}', job.spec.id)
    .replace('{run_id}', runId);
  fs.mkdirSync(folder, { recursive: true });
  const output = path.join(folder, 'output.ipynb');
  fs.writeFileSync(output, JSON.stringify(executed(region, printed)));
  fs.writeFileSync(
    path.join(folder, 'run.json'),
    JSON.stringify({
      apiVersion: 'smallfry/v1',
      kind: 'NotebookRun',
      job_id: job.spec.id,
      owner: job.spec.owner,
      run_id: runId,
      trigger: 'server',
      triggered_by: 'run_now',
      status,
      parameters: { region },
      output_uri: output,
      start: '2026-11-30T09:00:00Z',
      end: '2026-11-30T09:00:30Z',
      duration_seconds: 30,
      error: null
    })
  );
}

describe('comparing two runs through the server', () => {
  const id = unique('compare');
  const first = 'smallfry__2026-11-30T09-00-00__aaaaaa';
  const second = 'smallfry__2026-11-30T10-00-00__bbbbbb';

  beforeAll(async () => {
    const source = `${unique('compare')}.ipynb`;
    fs.writeFileSync(
      path.join(process.env.SMALLFRY_TEST_HOME!, source),
      JSON.stringify(executed('EU', ''))
    );
    const job = await JobsAPI.create(settings, {
      id,
      notebook: { source },
      parameters: { region: 'EU' },
      schedule: { type: 'manual' }
    });
    writeRun(job, first, 'EU', 'EU 42\n', 'success');
    writeRun(job, second, 'US', 'US 42\n', 'failed');
  });

  afterAll(async () => {
    await JobsAPI.remove(settings, id).catch(() => undefined);
    document.body.innerHTML = '';
  });

  it("shows the parameter, the status and the output that differ, in nbdime's diff", async () => {
    const answer = await fetchCompare(settings, {
      jobId: id,
      base: first,
      remote: second
    });
    const content = new CompareContent(
      { jobId: id, base: first, remote: second },
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
    const node = content.node;
    const region = node.querySelector(
      '.jp-smallfry-CompareParameters tr[data-key="region"]'
    )!;
    expect(region.getAttribute('data-state')).toBe('changed');
    expect(region.querySelector('td[data-side="remote"]')!.textContent).toBe(
      '"US" (changed)'
    );
    expect(
      node
        .querySelector('.jp-smallfry-CompareManifests tr[data-key="status"]')!
        .getAttribute('data-state')
    ).toBe('changed');
    const notebook = node.querySelector('.jp-smallfry-CompareNotebook')!;
    // The parameters cell is the same; the injected one and the output differ.
    expect(notebook.querySelectorAll('.jp-Cell-diff').length).toBe(3);
    expect(notebook.textContent).toContain('EU 42');
    expect(notebook.textContent).toContain('US 42');
  });

  it("compares a run with the job's notebook", async () => {
    const answer = await fetchCompare(settings, {
      jobId: id,
      base: second,
      remote: 'notebook'
    });
    expect(answer.manifests.remote).toBeNull();
    expect(answer.parameters.remote).toEqual({ region: 'EU' });
    expect(answer.diff.length).toBeGreaterThan(0);
  });

  it("says which run is not there, in the server's words", async () => {
    const refusal = fetchCompare(settings, {
      jobId: id,
      base: 'smallfry__no-such-run',
      remote: 'notebook'
    });
    await expect(refusal).rejects.toBeInstanceOf(APIError);
    await expect(refusal).rejects.toThrow(/no-such-run/);
  });
});
