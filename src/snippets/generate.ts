/**
 * Code snippets for the *Copy Code* and *Insert into Notebook* shortcuts:
 * what to type in a Small Fry kernel to read an S3 object, a catalog table
 * or a named database connection, in the dialect the user picked.
 *
 * Pure functions, no JupyterLab: the jest spec checks them against the
 * golden file `__tests__/snippets.json`, and the pytest
 * `tests/test_snippets.py` runs that file's code in a real kernel process
 * against moto, so what we generate is what was proven to run.
 */

/** The dialects a user can pick (setting `dialect` of `schema/snippets.json`). */
export const DIALECTS = [
  'pandas',
  'polars',
  'duckdb',
  'pyarrow',
  'boto3'
] as const;

/** One of {@link DIALECTS}. */
export type Dialect = (typeof DIALECTS)[number];

/** What the user right-clicked. */
export type SnippetTarget =
  | { kind: 'object'; uri: string }
  | { kind: 'table'; database: string; table: string }
  | { kind: 'connection'; name: string };

/** What the user sees of each dialect (menu labels). */
export const DIALECT_LABELS: Record<Dialect, string> = {
  pandas: 'pandas',
  polars: 'polars',
  duckdb: 'DuckDB SQL',
  pyarrow: 'pyarrow',
  boto3: 'boto3'
};

/** Whether `value` names a dialect (settings may hold anything). */
export function isDialect(value: unknown): value is Dialect {
  return (DIALECTS as readonly string[]).includes(value as string);
}

/**
 * A Python `str` literal of `text`. JSON's string escapes (`\"`, `\\`,
 * `\n`, `\uXXXX`…) are all valid Python escapes with the same meaning, and
 * JSON leaves other characters (unicode included) as they are, which Python
 * 3 source (UTF-8) accepts.
 */
export function pyString(text: string): string {
  return JSON.stringify(text);
}

/** A SQL string literal (single quotes doubled). */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A SQL identifier: bare when plain (Glue's own names are), else quoted. */
export function sqlName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
    ? name
    : `"${name.replace(/"/g, '""')}"`;
}

/** The file format of an object's name, as `sf.read` tells it. */
export type ObjectFormat =
  'parquet' | 'csv' | 'tsv' | 'jsonl' | 'json' | 'excel';

/** The format of `key` by its extension (`.gz` looked through), or null. */
export function formatOf(key: string): ObjectFormat | null {
  const name = key.toLowerCase().replace(/\.gz$/, '');
  const ext = name.slice(name.lastIndexOf('.') + 1);
  switch (ext) {
    case 'parquet':
    case 'pq':
      return 'parquet';
    case 'csv':
      return 'csv';
    case 'tsv':
    case 'tab':
      return 'tsv';
    case 'jsonl':
    case 'ndjson':
      return 'jsonl';
    case 'json':
      return 'json';
    case 'xlsx':
    case 'xls':
      return 'excel';
    default:
      return null;
  }
}

/** Split `s3://bucket/key` into its parts, or throw a clear error. */
export function splitUri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) {
    throw new Error(`Not the s3:// URI of an object: ${uri}`);
  }
  return { bucket: match[1], key: match[2] };
}

/**
 * The DuckDB table function reading an object, or null when DuckDB cannot
 * read it straight: Excel, an unknown format, or a key DuckDB would take as
 * a glob pattern (`*`, `?`, `[`, `{`) — those are read by `sf.read` and
 * queried as a DataFrame instead.
 */
function duckdbSource(uri: string, format: ObjectFormat | null): string | null {
  if (/[*?[\]{}]/.test(uri)) {
    return null;
  }
  switch (format) {
    case 'parquet':
      return `read_parquet(${sqlString(uri)})`;
    case 'csv':
      return `read_csv(${sqlString(uri)})`;
    case 'tsv':
      return `read_csv(${sqlString(uri)}, delim = '\\t')`;
    case 'jsonl':
    case 'json':
      return `read_json(${sqlString(uri)})`;
    default:
      return null;
  }
}

/** How pandas parses an object's bytes (`data`), for the boto3 dialect. */
function pandasParse(key: string, format: ObjectFormat): string {
  const gz = /\.gz$/i.test(key) ? ', compression="gzip"' : '';
  switch (format) {
    case 'parquet':
      return 'pd.read_parquet(io.BytesIO(data))';
    case 'csv':
      return `pd.read_csv(io.BytesIO(data)${gz})`;
    case 'tsv':
      return `pd.read_csv(io.BytesIO(data), sep="\\t"${gz})`;
    case 'jsonl':
      return `pd.read_json(io.BytesIO(data), lines=True${gz})`;
    case 'json':
      return `pd.read_json(io.BytesIO(data)${gz})`;
    case 'excel':
      return 'pd.read_excel(io.BytesIO(data))';
  }
}

function objectCode(uri: string, dialect: Dialect): string {
  const { bucket, key } = splitUri(uri);
  const format = formatOf(key);
  const u = pyString(uri);
  if (format === null) {
    // No reader knows it by its name: every dialect gets its bytes.
    return (
      '# No reader knows this format by its name: here are its bytes.\n' +
      'import boto3\n\n' +
      bytesCode(bucket, key) +
      'len(data)'
    );
  }
  switch (dialect) {
    case 'pandas':
      return `import smallfry as sf\n\ndf = sf.read(${u})\ndf.head()`;
    case 'polars':
      return `import smallfry as sf\n\ndf = sf.read(${u}, engine="polars")\ndf.head()`;
    case 'duckdb': {
      const source = duckdbSource(uri, format);
      if (source === null) {
        return (
          'import smallfry as sf\n\n' +
          `data = sf.read(${u})\n` +
          'sf.sql("SELECT * FROM data LIMIT 100", data=data)'
        );
      }
      return (
        'import smallfry as sf\n\n' +
        `sf.sql(${pyString(`SELECT * FROM ${source} LIMIT 100`)})`
      );
    }
    case 'pyarrow':
      return (
        'import pyarrow as pa\nimport smallfry as sf\n\n' +
        `table = pa.Table.from_pandas(sf.read(${u}), preserve_index=False)\n` +
        'table.slice(0, 5).to_pandas()'
      );
    case 'boto3':
      return (
        'import io\n\nimport boto3\nimport pandas as pd\n\n' +
        bytesCode(bucket, key) +
        `df = ${pandasParse(key, format)}\n` +
        'df.head()'
      );
  }
}

/** Code reading an object's bytes into `data` with boto3. */
function bytesCode(bucket: string, key: string): string {
  return (
    's3 = boto3.client("s3")\n' +
    `obj = s3.get_object(Bucket=${pyString(bucket)}, Key=${pyString(key)})\n` +
    'data = obj["Body"].read()\n'
  );
}

function tableCode(database: string, table: string, dialect: Dialect): string {
  const name = pyString(`${database}.${table}`);
  switch (dialect) {
    case 'pandas':
      return `import smallfry as sf\n\ndf = sf.table(${name})\ndf.head()`;
    case 'polars':
      return `import smallfry as sf\n\ndf = sf.table(${name}, engine="polars")\ndf.head()`;
    case 'duckdb': {
      const query = `SELECT * FROM ${sqlName(database)}.${sqlName(table)} LIMIT 100`;
      return `import smallfry as sf\n\nsf.sql(${pyString(query)})`;
    }
    case 'pyarrow':
      return (
        'import pyarrow as pa\nimport smallfry as sf\n\n' +
        `table = pa.Table.from_pandas(sf.table(${name}), preserve_index=False)\n` +
        'table.slice(0, 5).to_pandas()'
      );
    case 'boto3':
      // boto3 has no reader: the table's definition, where its data lives.
      return (
        'import boto3\n\n' +
        'glue = boto3.client("glue")\n' +
        `table = glue.get_table(DatabaseName=${pyString(database)}, Name=${pyString(table)})["Table"]\n` +
        'table["StorageDescriptor"]["Location"]'
      );
  }
}

/** Runs on every database SQLAlchemy knows (MS SQL, PostgreSQL, MySQL…). */
const PROBE_QUERY = 'SELECT 1 AS ok';

function connectionCode(name: string, dialect: Dialect): string {
  const imports = (...modules: string[]): string =>
    `${modules.map(m => `import ${m}`).join('\n')}\n\n`;
  const connect =
    `engine = sf.connect(${pyString(name)})\n` +
    '# Your query here; SELECT 1 checks that the connection works.\n';
  const readSql = `df = pd.read_sql(${pyString(PROBE_QUERY)}, engine)\n`;
  switch (dialect) {
    case 'polars':
      return (
        imports('polars as pl', 'smallfry as sf') +
        connect +
        `df = pl.read_database(${pyString(PROBE_QUERY)}, engine)\n` +
        'df.head()'
      );
    case 'duckdb':
      // DuckDB cannot reach the database: query its result as a DataFrame.
      return (
        imports('pandas as pd', 'smallfry as sf') +
        connect +
        readSql +
        'sf.sql("SELECT * FROM df LIMIT 100", df=df)'
      );
    case 'pyarrow':
      return (
        imports('pandas as pd', 'pyarrow as pa', 'smallfry as sf') +
        connect +
        readSql +
        'table = pa.Table.from_pandas(df, preserve_index=False)\n' +
        'table.slice(0, 5).to_pandas()'
      );
    case 'pandas':
    case 'boto3':
      // boto3 has no database client (sf.connect itself fetches the
      // password from Secrets Manager with boto3): the pandas code.
      return (
        imports('pandas as pd', 'smallfry as sf') +
        connect +
        readSql +
        'df.head()'
      );
  }
}

/**
 * The Python code reading `target` in `dialect`, ready to run in a kernel
 * of a Small Fry server.
 *
 * @throws Error when an object's URI is not `s3://bucket/key`
 */
export function snippetOf(target: SnippetTarget, dialect: Dialect): string {
  switch (target.kind) {
    case 'object':
      return objectCode(target.uri, dialect);
    case 'table':
      return tableCode(target.database, target.table, dialect);
    case 'connection':
      return connectionCode(target.name, dialect);
  }
}

/** The target named by a `"db.table"` string (the database has no dot). */
export function tableTarget(qualified: string): SnippetTarget {
  const dot = qualified.indexOf('.');
  if (dot <= 0 || dot === qualified.length - 1) {
    throw new Error(`Not a "database.table" name: ${qualified}`);
  }
  return {
    kind: 'table',
    database: qualified.slice(0, dot),
    table: qualified.slice(dot + 1)
  };
}
