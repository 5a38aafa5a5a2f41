/**
 * @jest-environment node
 */
/**
 * The preview model and its grids against the real Jupyter server and S3:
 * what the tab shows for a Parquet file with odd types (written by pyarrow),
 * a TSV, and what it says for a missing object or an unknown drive.
 */
import './nodeGlobals';

import { execFileSync } from 'child_process';

import { useBucket } from '../../__tests__/harness/fixture';
import {
  BUCKET,
  serverSettings,
  uniqueFolder
} from '../../__tests__/harness/servers';
import { fetchPreview, PreviewSource } from '../api';
import { RowsModel, SchemaModel, SCHEMA_COLUMNS } from '../grid';
import { PreviewModel } from '../model';
import { previewSource } from '../source';

/** Parquet bytes written by pyarrow: zoned timestamps, decimals, lists, maps, nulls. */
function oddParquet(): Buffer {
  const script = `
import datetime as dt, decimal, io, sys
import pyarrow as pa, pyarrow.parquet as pq
n = 300
t = pa.table({
    "id": pa.array(range(n), pa.int64()),
    "at": pa.array([dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=i) for i in range(n)], pa.timestamp("us", tz="America/New_York")),
    "amount": pa.array([None if i % 3 == 0 else decimal.Decimal(i) / 100 for i in range(n)], pa.decimal128(10, 2)),
    "tags": pa.array([["a", str(i)] for i in range(n)]),
    "attrs": pa.array([[("k", i)] for i in range(n)], pa.map_(pa.string(), pa.int64())),
})
out = io.BytesIO()
pq.write_table(t, out, row_group_size=100)
sys.stdout.buffer.write(out.getvalue())
`;
  return execFileSync(process.env.SMALLFRY_TEST_PYTHON || 'python', [
    '-c',
    script
  ]);
}

function modelOf(source: PreviewSource | null, name = 'test'): PreviewModel {
  return new PreviewModel(source, s => fetchPreview(s, serverSettings()), name);
}

describe('PreviewModel', () => {
  const direct = useBucket();
  const folder = uniqueFolder('preview-model');

  it('shows a Parquet file: schema, statistics, total rows, first rows', async () => {
    await direct.bucket.put(`${folder}/odd.parquet`, oddParquet());
    const model = modelOf({ uri: `s3://${BUCKET}/${folder}/odd.parquet` });
    const states: string[] = [];
    model.changed.connect(() => states.push(model.state));
    await model.load();
    expect(states).toEqual(['loading', 'ready']);
    const preview = model.preview!;
    expect(model.columns).toEqual(['id', 'at', 'amount', 'tags', 'attrs']);
    expect(preview.num_rows).toBe(300);
    expect(preview.row_groups).toEqual({ count: 3, read: 3 });

    const rows = new RowsModel(preview);
    expect(rows.rowCount('body')).toBe(300);
    expect(rows.columnCount('body')).toBe(5);
    expect(rows.data('column-header', 0, 2)).toBe('amount');
    expect(rows.data('row-header', 4, 0)).toBe(5);
    expect(rows.data('body', 0, 1)).toBe('2024-12-31T19:00:00-05:00');
    expect(rows.data('body', 0, 2)).toBeNull();
    expect(rows.data('body', 1, 2)).toBe('0.01');
    expect(rows.data('body', 1, 3)).toBe('["a", "1"]');
    expect(rows.data('body', 1, 4)).toBe('{"k": 1}');

    const headings = SCHEMA_COLUMNS.map(h => h.toUpperCase());
    const schema = new SchemaModel(preview, headings);
    expect(schema.rowCount('body')).toBe(5);
    expect(schema.data('row-header', 1, 0)).toBe('at');
    expect(schema.data('column-header', 0, 0)).toBe('TYPE');
    expect(schema.data('body', 1, 0)).toBe(
      'timestamp[us, tz=America/New_York]'
    );
    expect(schema.data('body', 0, 2)).toBe(0); // min of id
    expect(schema.data('body', 0, 3)).toBe(299); // max of id
    expect(schema.data('body', 2, 4)).toBe(100); // nulls in amount
    model.dispose();
  });

  it('shows a TSV with no statistics and its exact row count', async () => {
    await direct.bucket.put(`${folder}/t.tsv`, 'a\tb\n1\tx\n2\t\n');
    const model = modelOf({ uri: `s3://${BUCKET}/${folder}/t.tsv` });
    await model.load();
    const preview = model.preview!;
    expect(preview.delimiter).toBe('\t');
    expect(preview.num_rows).toBe(2);
    const schema = new SchemaModel(preview, SCHEMA_COLUMNS);
    expect(schema.data('body', 0, 2)).toBeNull();
    // pyarrow reads an empty CSV field of a text column as "" (not null).
    expect(new RowsModel(preview).data('body', 1, 1)).toBe('');
  });

  it("ends in the error state with the server's message", async () => {
    const uri = `s3://${BUCKET}/${folder}/missing.parquet`;
    const model = modelOf({ uri });
    await model.load();
    expect(model.state).toBe('error');
    expect(model.error).toBe(`${uri}: no such object (NoSuchKey)`);
    expect(model.preview).toBeNull();
  });

  it('says which paths it cannot preview', async () => {
    expect(previewSource('other:x.csv', null, false)).toBeNull();
    expect(previewSource('data/a.csv', null, false)).toEqual({
      path: 'data/a.csv'
    });
    const model = modelOf(null, 'other:x.csv');
    await model.load();
    expect(model.state).toBe('error');
    expect(model.error).toContain('other:x.csv: only files of the S3 browser');
  });
});
