/**
 * The snippet generator against the golden file `snippets.json`, which
 * `server-ext/jupyterlab_smallfry/tests/test_snippets.py` runs in a real
 * Python process against moto: every case here is code proven to run.
 *
 * After a deliberate change, rewrite the golden file with
 * `SMALLFRY_UPDATE_GOLDEN=1 npx jest src/snippets` and run the pytest.
 */
import * as fs from 'fs';
import * as path from 'path';

import {
  DIALECTS,
  formatOf,
  pyString,
  snippetOf,
  SnippetTarget,
  splitUri,
  tableTarget
} from '../generate';

const GOLDEN = path.join(__dirname, 'snippets.json');

/** The bucket and names the pytest creates in moto. */
const BUCKET = 'snippets-tests';
const TARGETS: SnippetTarget[] = [
  { kind: 'object', uri: `s3://${BUCKET}/data/sales.parquet` },
  { kind: 'object', uri: `s3://${BUCKET}/data/sales.csv` },
  { kind: 'object', uri: `s3://${BUCKET}/data/sales.tsv.gz` },
  { kind: 'object', uri: `s3://${BUCKET}/data/sales.jsonl` },
  // Quotes, a backslash, unicode and spaces: the Python and SQL literals.
  {
    kind: 'object',
    uri: `s3://${BUCKET}/odd/it's "q" \\ ünï cødé 表.parquet`
  },
  // A glob character DuckDB would expand; a format no reader knows.
  { kind: 'object', uri: `s3://${BUCKET}/odd/star*[1] it's.csv` },
  { kind: 'object', uri: `s3://${BUCKET}/odd/notes.bin` },
  { kind: 'table', database: 'snippets_db', table: 'sales' },
  { kind: 'connection', name: 'local' }
];

interface IGoldenCase {
  target: SnippetTarget;
  dialect: string;
  code: string;
}

function generated(): IGoldenCase[] {
  return TARGETS.flatMap(target =>
    DIALECTS.map(dialect => ({
      target,
      dialect,
      code: snippetOf(target, dialect)
    }))
  );
}

describe('snippetOf', () => {
  if (process.env.SMALLFRY_UPDATE_GOLDEN) {
    fs.writeFileSync(GOLDEN, JSON.stringify(generated(), null, 2) + '\n');
  }

  it('produces the golden file the pytest runs, for every dialect and target', () => {
    const golden = JSON.parse(fs.readFileSync(GOLDEN, 'utf-8'));
    expect(generated()).toEqual(golden);
    expect(golden).toHaveLength(TARGETS.length * DIALECTS.length);
  });

  it('reads S3 objects with sf, in the dialect asked', () => {
    const uri = 's3://b/k/x.parquet';
    const target: SnippetTarget = { kind: 'object', uri };
    expect(snippetOf(target, 'pandas')).toBe(
      'import smallfry as sf\n\ndf = sf.read("s3://b/k/x.parquet")\ndf.head()'
    );
    expect(snippetOf(target, 'polars')).toContain(
      'sf.read("s3://b/k/x.parquet", engine="polars")'
    );
    expect(snippetOf(target, 'duckdb')).toContain(
      `sf.sql("SELECT * FROM read_parquet('s3://b/k/x.parquet') LIMIT 100")`
    );
    expect(snippetOf(target, 'boto3')).toContain(
      's3.get_object(Bucket="b", Key="k/x.parquet")'
    );
  });

  it('quotes odd keys as Python and SQL literals', () => {
    const uri = `s3://b/it's "q" \\ ü.csv`;
    const target: SnippetTarget = { kind: 'object', uri };
    expect(snippetOf(target, 'pandas')).toContain(
      `sf.read("s3://b/it's \\"q\\" \\\\ ü.csv")`
    );
    // SQL doubles the quote, then Python escapes the SQL.
    expect(snippetOf(target, 'duckdb')).toContain(
      `sf.sql("SELECT * FROM read_csv('s3://b/it''s \\"q\\" \\\\ ü.csv') LIMIT 100")`
    );
    expect(pyString('a\nb\t"c"')).toBe('"a\\nb\\t\\"c\\""');
  });

  it('reads a key DuckDB would glob with sf.read, then queries the DataFrame', () => {
    const code = snippetOf({ kind: 'object', uri: 's3://b/a*.csv' }, 'duckdb');
    expect(code).toContain('data = sf.read("s3://b/a*.csv")');
    expect(code).toContain('sf.sql("SELECT * FROM data LIMIT 100", data=data)');
  });

  it('reads catalog tables with sf.table and sf.sql', () => {
    const target = tableTarget('db.sales');
    expect(snippetOf(target, 'pandas')).toContain('df = sf.table("db.sales")');
    expect(snippetOf(target, 'duckdb')).toContain(
      'sf.sql("SELECT * FROM db.sales LIMIT 100")'
    );
    expect(
      snippetOf({ kind: 'table', database: 'db', table: 'Odd-Name' }, 'duckdb')
    ).toContain('FROM db.\\"Odd-Name\\" LIMIT');
  });

  it('connects to named connections with sf.connect and pd.read_sql', () => {
    const code = snippetOf({ kind: 'connection', name: 'warehouse' }, 'pandas');
    expect(code).toContain('engine = sf.connect("warehouse")');
    expect(code).toContain('df = pd.read_sql("SELECT 1 AS ok", engine)');
  });

  it('refuses what is not an object URI or a table name, clearly', () => {
    expect(() => splitUri('s3://bucket-only')).toThrow(
      'Not the s3:// URI of an object: s3://bucket-only'
    );
    expect(() => tableTarget('nodot')).toThrow('Not a "database.table" name');
  });

  it('tells formats by extension, through .gz', () => {
    expect(formatOf('a/b.CSV.gz')).toBe('csv');
    expect(formatOf('a/b.tsv')).toBe('tsv');
    expect(formatOf('a/b.ndjson')).toBe('jsonl');
    expect(formatOf('a/b.xlsx')).toBe('excel');
    expect(formatOf('a/b')).toBeNull();
  });
});
