/**
 * What the run history says about a run, from its run.json and
 * progress.json, and the values the re-run dialogs send: the pure rules.
 */
import type { IJob, IRunInput, IRunManifest } from '../api';
import { formatEnd, formatTime } from '../history';
import { changedInputs, parameterFields, readParameters } from '../rerun';
import { formatBytes } from '../../core/format';
import {
  compareRequest,
  parametersLine,
  positionOf,
  sourceHead,
  triggerOf
} from '../runs';

function run(over: Partial<IRunManifest> = {}): IRunManifest {
  return {
    job_id: 'sales',
    owner: 'alice',
    run_id: 'smallfry__2026-11-24T06-00-00__abcdef',
    status: 'success',
    output_uri: 's3://b/runs/alice/sales/r/output.ipynb',
    start: '2026-11-24T05:00:00Z',
    end: null,
    duration_seconds: null,
    error: null,
    ...over
  };
}

describe('triggerOf', () => {
  it('says what the runner recorded', () => {
    expect(triggerOf(run({ triggered_by: 'reproduce' }))).toBe('reproduce');
    // Even for an Airflow run id that would read otherwise.
    expect(
      triggerOf(
        run({
          run_id: 'scheduled__2026-11-24T06:00:00+00:00',
          triggered_by: 'rerun'
        })
      )
    ).toBe('rerun');
  });

  it('reads old runs from their run id and try', () => {
    expect(
      triggerOf(run({ run_id: 'scheduled__2026-11-24T06:00:00+00:00' }))
    ).toBe('schedule');
    expect(
      triggerOf(run({ run_id: 'asset_triggered__2026-11-24T06:00:00+00:00' }))
    ).toBe('upstream');
    expect(triggerOf(run({ try_number: 2 }))).toBe('retry');
    expect(
      triggerOf(
        run({ run_id: 'manual__2026-11-24T06:00:00+00:00', try_number: 1 })
      )
    ).toBe('run_now');
    expect(triggerOf(run())).toBe('run_now');
  });
});

describe('parametersLine', () => {
  it('spells values the way the notebook does', () => {
    expect(
      parametersLine({
        region: "O'Hare",
        days: 3,
        rate: 0.5,
        dry_run: false,
        since: null,
        stores: ['a', 'b']
      })
    ).toBe(
      'region=\'O\\\'Hare\', days=3, rate=0.5, dry_run=False, since=None, stores=["a","b"]'
    );
    expect(parametersLine(undefined)).toBe('');
  });
});

describe('positionOf', () => {
  const start = Date.parse('2026-11-24T05:00:00Z');
  const progress = {
    state: 'running',
    cell: 3,
    cells: 7,
    started: '2026-11-24T05:00:00Z',
    updated: '2026-11-24T05:00:40Z',
    elapsed_seconds: 40
  };

  it('ticks the elapsed time from the start between two reads', () => {
    expect(positionOf(run(), progress, start + 65000)).toEqual({
      cell: 3,
      cells: 7,
      elapsed: 65
    });
  });

  it("never counts back when the browser's clock is behind the runner's", () => {
    expect(positionOf(run(), progress, start + 10000).elapsed).toBe(40);
  });

  it('knows the cells from run.json before the first progress', () => {
    expect(positionOf(run({ cells: 4 }), null, start + 2000)).toEqual({
      cell: 0,
      cells: 4,
      elapsed: 2
    });
    expect(positionOf(run({ start: null }), null, start).elapsed).toBe(0);
  });
});

describe('helpers', () => {
  it('keeps the head of a failing cell and says more follows', () => {
    expect(sourceHead('a = 1\nb = 2\nc = 3\nd = 4\n')).toEqual({
      head: 'a = 1\nb = 2\nc = 3',
      more: true
    });
    expect(sourceHead('x()\n\n')).toEqual({ head: 'x()', more: false });
    expect(sourceHead(undefined)).toEqual({ head: '', more: false });
  });

  it('writes the end of a run as a time when it ended the day it started', () => {
    const start = '2026-11-24T12:00:00Z';
    const end = '2026-11-24T12:05:00Z';
    expect(formatEnd(start, end)).toBe(
      new Date(end).toLocaleTimeString(undefined, { timeStyle: 'short' })
    );
    const later = '2026-11-27T12:05:00Z';
    expect(formatEnd(start, later)).toBe(formatTime(later));
    expect(formatEnd(start, null)).toBe('');
  });

  it('writes sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MiB');
    expect(formatBytes(null)).toBe('');
  });
});

describe('compareRequest', () => {
  const older = run({ run_id: 'a', start: '2026-11-20T05:00:00Z' });
  const newer = run({ run_id: 'b', start: '2026-11-24T05:00:00Z' });

  it('compares the older run with the newer, in either check order', () => {
    const forward = { jobId: 'sales', base: 'a', remote: 'b' };
    expect(compareRequest('sales', [older, newer])).toEqual(forward);
    expect(compareRequest('sales', [newer, older])).toEqual(forward);
  });

  it("compares one run with the job's notebook, and nothing else", () => {
    expect(compareRequest('sales', [newer])).toEqual({
      jobId: 'sales',
      base: 'b',
      remote: 'notebook'
    });
    expect(compareRequest('sales', [])).toBeNull();
    expect(compareRequest('sales', [older, newer, older])).toBeNull();
  });
});

describe('the parameters dialog', () => {
  const job = {
    spec: {
      id: 'sales',
      schedule: { type: 'manual' },
      parameters: { region: 'EU', days: 1, rate: 0.5, dry_run: false }
    },
    runs: [],
    dag_id: 'd'
  } as IJob;

  it("offers the job's parameters typed by the spec, with the run's values", () => {
    const fields = parameterFields(
      job,
      run({ parameters: { region: 'US', days: 7, legacy: ['x'] } })
    );
    expect(fields).toEqual([
      { name: 'region', type: 'str', text: 'US' },
      { name: 'days', type: 'int', text: '7' },
      { name: 'rate', type: 'float', text: '0.5' },
      { name: 'dry_run', type: 'bool', text: 'false' },
      { name: 'legacy', type: 'list', text: '["x"]' }
    ]);
    expect(parameterFields(job, null).map(f => f.text)).toEqual([
      'EU',
      '1',
      '0.5',
      'false'
    ]);
  });

  it('reads the fields back as typed values, or says what is wrong', () => {
    expect(
      readParameters([
        { name: 'region', type: 'str', text: 'US' },
        { name: 'days', type: 'int', text: '7' },
        { name: 'dry_run', type: 'bool', text: 'true' }
      ])
    ).toEqual({
      values: { region: 'US', days: 7, dry_run: true },
      errors: null
    });
    expect(
      readParameters([
        { name: 'days', type: 'int', text: '7.5' },
        { name: 'stores', type: 'list', text: 'a, b' }
      ])
    ).toEqual({
      values: null,
      errors: {
        'parameters.days': 'must be a whole number',
        'parameters.stores': 'must be a JSON list, e.g. ["a", "b"]'
      }
    });
  });

  it('lists the gone inputs first, then the changed ones, and no others', () => {
    const input = (key: string, over: Partial<IRunInput>): IRunInput => ({
      bucket: 'b',
      key,
      etag: 'e',
      etag_now: 'e',
      changed: false,
      missing: false,
      ...over
    });
    expect(
      changedInputs([
        input('same', {}),
        input('changed', { etag_now: 'f', changed: true }),
        input('gone', { etag_now: null, missing: true })
      ]).map(i => i.key)
    ).toEqual(['gone', 'changed']);
  });
});
