/**
 * What the comparison shows besides the notebook diff, as rows of two
 * columns: the parameters each side ran with and the two `run.json`. No DOM,
 * so it is tested in Node; the view only draws these rows.
 *
 * The notebook diff itself is nbdime's (computed by the server, drawn by
 * nbdime's web components in `view.tsx`). Loaded with the view, on first use.
 */
import {
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';

import type { ParameterValue } from '../schedule/api';
import type { ICompareAnswer, ICompareManifest, ILineageObject } from './api';

/** How a row's two sides relate. */
export type RowState = 'same' | 'changed' | 'added' | 'removed';

/** One row of a side-by-side table. */
export interface ICompareRow {
  /** What the row is: a parameter's name, or a `run.json` field's label. */
  label: string;
  /** Stable key (the parameter name or the manifest field), for tests and React. */
  key: string;
  /** The left side as text; `null` when the left side lacks it. */
  base: string | null;
  /** The right side as text; `null` when the right side lacks it. */
  remote: string | null;
  state: RowState;
}

/** A parameter value as Python would write it in the parameters cell. */
export function pythonText(value: ParameterValue): string {
  if (value === null) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  // Strings quoted, lists and dicts as JSON: close to Python's own repr.
  return JSON.stringify(value);
}

function stateOf(base: string | null, remote: string | null): RowState {
  if (base === remote) {
    return 'same';
  }
  if (base === null) {
    return 'added';
  }
  if (remote === null) {
    return 'removed';
  }
  return 'changed';
}

function row(
  key: string,
  label: string,
  base: string | null,
  remote: string | null
): ICompareRow {
  return { key, label, base, remote, state: stateOf(base, remote) };
}

/**
 * The parameters of both sides, one row per name: the base's names in its
 * order, then those only the remote has.
 */
export function parameterRows(
  parameters: ICompareAnswer['parameters']
): ICompareRow[] {
  const base = parameters.base ?? {};
  const remote = parameters.remote ?? {};
  const names = [
    ...Object.keys(base),
    ...Object.keys(remote).filter(n => !(n in base))
  ];
  return names.map(n =>
    row(
      n,
      n,
      n in base ? pythonText(base[n]) : null,
      n in remote ? pythonText(remote[n]) : null
    )
  );
}

/**
 * What started a run. Runs recorded before `triggered_by` existed say it
 * through their run id and try number (the same reading the Jobs panel uses).
 */
export function triggerOf(m: ICompareManifest): string {
  if (m.triggered_by) {
    return m.triggered_by;
  }
  const id = m.run_id ?? '';
  if (id.startsWith('scheduled__')) {
    return 'schedule';
  }
  if (id.startsWith('asset_triggered__')) {
    return 'upstream';
  }
  if ((m.try_number ?? 1) > 1) {
    return 'retry';
  }
  return 'run_now';
}

function triggerText(m: ICompareManifest, trans: TranslationBundle): string {
  const kind = triggerOf(m);
  const words: { [kind: string]: string } = {
    schedule: trans.__('schedule'),
    run_now: trans.__('Run now'),
    retry: trans.__('retry'),
    upstream: trans.__('upstream jobs succeeded'),
    rerun: trans.__('re-run'),
    reproduce: trans.__('reproduce'),
    parameters: trans.__('run with other parameters')
  };
  let text = words[kind] ?? kind;
  if (m.upstream?.length) {
    text += ` (${m.upstream.map(u => `${u.job_id} ${u.run_id}`).join(', ')})`;
  }
  return text;
}

function durationText(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined) {
    return null;
  }
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h) {
    return `${h} h ${m} min ${rest} s`;
  }
  return m ? `${m} min ${rest} s` : `${rest} s`;
}

function errorText(
  error: ICompareManifest['error'],
  trans: TranslationBundle
): string | null {
  if (!error) {
    return null;
  }
  const what = [error.type, error.message].filter(Boolean).join(': ');
  return typeof error.cell_index === 'number'
    ? trans.__('%1 (code cell %2)', what, String(error.cell_index + 1))
    : what;
}

/** One S3 object per line: `s3://bucket/key  etag  bytes`. */
function objectsText(objects: ILineageObject[] | undefined): string | null {
  if (!objects?.length) {
    return null;
  }
  return objects
    .map(o =>
      [
        `s3://${o.bucket}/${o.key}`,
        o.etag ? `ETag ${o.etag}` : '',
        o.version_id ? `version ${o.version_id}` : '',
        typeof o.bytes === 'number' ? `${o.bytes} B` : ''
      ]
        .filter(Boolean)
        .join('  ')
    )
    .join('\n');
}

/**
 * The two `run.json` side by side: status, times, duration, the notebook
 * snapshot, what started the run, its error and the S3 objects it read and
 * wrote (the run ids head the columns). With the job's notebook on the
 * right (`remote` null) there is nothing to compare with: every row's right
 * side is `null` and its state `same`, and the view shows the run alone.
 */
export function manifestRows(
  manifests: ICompareAnswer['manifests'],
  trans: TranslationBundle = nullTranslator.load('jupyterlab_smallfry')
): ICompareRow[] {
  const sides = [manifests.base, manifests.remote];
  const fields: [
    string,
    string,
    (m: ICompareManifest) => string | null | undefined
  ][] = [
    ['status', trans.__('Status'), m => m.status],
    ['start', trans.__('Started'), m => m.start],
    ['end', trans.__('Ended'), m => m.end],
    [
      'duration_seconds',
      trans.__('Duration'),
      m => durationText(m.duration_seconds)
    ],
    [
      'notebook',
      trans.__('Notebook snapshot (sha256)'),
      m => m.notebook?.sha256
    ],
    ['triggered_by', trans.__('Started by'), m => triggerText(m, trans)],
    ['error', trans.__('Error'), m => errorText(m.error, trans)],
    [
      'lineage.reads',
      trans.__('Read from S3'),
      m => objectsText(m.lineage?.reads)
    ],
    [
      'lineage.writes',
      trans.__('Wrote to S3'),
      m => objectsText(m.lineage?.writes)
    ]
  ];
  const rows = fields.map(([key, label, get]) => {
    const [base, remote] = sides.map(m => (m ? (get(m) ?? null) : null));
    const r = row(key, label, base, remote);
    return manifests.remote ? r : { ...r, state: 'same' as const };
  });
  if (manifests.remote && sides.some(m => m?.lineage?.truncated)) {
    rows.push(
      row(
        'lineage.truncated',
        trans.__('Lineage'),
        manifests.base.lineage?.truncated ? trans.__('truncated') : null,
        manifests.remote?.lineage?.truncated ? trans.__('truncated') : null
      )
    );
  }
  return rows;
}
