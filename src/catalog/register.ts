/**
 * *Register as table*, the parts without I/O: what an S3 folder holds (its
 * format, its `key=value/` partition folders) and the Glue `TableInput` and
 * `PartitionInput`s that describe it the way Athena and `sf.table` read
 * tables (Parquet SerDe, or the text SerDe with a delimiter and a header
 * line). Tested in Node.
 */

/** What one folder of data files is. */
export interface IFolderLayout {
  /** `parquet`, `csv` or `tsv`. */
  format: 'parquet' | 'csv' | 'tsv';
  /** Data files (full keys), sorted. */
  files: string[];
  /** The first data file: the one whose schema is read. */
  sample: string;
  /** Partition keys from `key=value/` folders, outermost first. */
  partitionKeys: string[];
  /** Each partition: its values (in key order), folder and file count. */
  partitions: IPartitionFolder[];
}

/** One `key=value/…/` partition folder. */
export interface IPartitionFolder {
  /** The values, in key order. */
  values: string[];
  /** Its path below the table's folder, as in S3, ending with `/`. */
  folder: string;
  /** How many data files it holds. */
  files: number;
}

/** One column of the table being registered (editable in the dialog). */
export interface IColumn {
  name: string;
  type: string;
}

/** Everything needed to create the Glue table. */
export interface ITablePlan {
  database: string;
  name: string;
  /** `s3://bucket/prefix/`, ending with a slash. */
  location: string;
  format: 'parquet' | 'csv' | 'tsv';
  columns: IColumn[];
  partitionKeys: IColumn[];
  /** The partition folders. */
  partitions: IPartitionFolder[];
  /** The text delimiter (CSV/TSV). */
  delimiter?: string;
}

/** Why a folder cannot become a table. */
export class LayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayoutError';
  }
}

const FORMATS: [RegExp, IFolderLayout['format']][] = [
  [/\.(parquet|pq|parq)$/i, 'parquet'],
  [/\.csv(\.gz)?$/i, 'csv'],
  [/\.(tsv|tab)(\.gz)?$/i, 'tsv']
];

/** Glue names: lower-case letters, digits and underscores (Athena's rule). */
export const NAME_PATTERN = /^[a-z_][a-z0-9_]{0,254}$/;

/**
 * Read a folder's layout from its object keys.
 *
 * Hidden files and folders (`_SUCCESS`, `.crc`, `_temporary/`), which Spark,
 * Hive and Athena skip too, are ignored. Throws a {@link LayoutError} naming
 * the problem: no data files, files of several formats (or of none the
 * catalog reads), or partition folders that do not agree.
 *
 * @param prefix - the folder's key prefix, ending with `/` (or `""`)
 * @param keys - every key below it
 */
export function folderLayout(
  prefix: string,
  keys: readonly string[]
): IFolderLayout {
  const byFormat = new Map<IFolderLayout['format'], string[]>();
  const unknown: string[] = [];
  for (const key of keys) {
    const rel = key.slice(prefix.length);
    if (rel === '' || rel.endsWith('/')) {
      continue; // folder markers
    }
    if (rel.split('/').some(part => /^[_.]/.test(part))) {
      continue;
    }
    const format = FORMATS.find(([pattern]) => pattern.test(rel))?.[1];
    if (format) {
      byFormat.set(format, [...(byFormat.get(format) ?? []), key]);
    } else {
      unknown.push(rel);
    }
  }
  if (byFormat.size === 0) {
    throw new LayoutError(
      unknown.length
        ? `No Parquet, CSV or TSV files here (found e.g. ${unknown[0]}); a table's files need a .parquet, .csv or .tsv name.`
        : 'This folder holds no data files.'
    );
  }
  if (byFormat.size > 1 || unknown.length > 0) {
    // In a fixed order, whatever order the keys came in.
    const kinds = FORMATS.map(([, f]) => f)
      .filter((f, i, all) => all.indexOf(f) === i && byFormat.has(f))
      .map(f => f.toUpperCase());
    if (unknown.length > 0) {
      kinds.push(`other files (e.g. ${unknown[0]})`);
    }
    throw new LayoutError(
      `A table reads one format, and this folder mixes ${kinds.join(' and ')}. Move the other files out, or register a sub-folder.`
    );
  }
  const [[format, files]] = [...byFormat.entries()];
  files.sort();
  let partitionKeys: string[] | null = null;
  const partitions = new Map<string, IPartitionFolder>();
  for (const key of files) {
    const folders = key.slice(prefix.length).split('/').slice(0, -1);
    const pairs = folders.map(folder => /^([^=]+)=(.*)$/.exec(folder));
    if (pairs.some(p => p === null)) {
      throw new LayoutError(
        `${key.slice(prefix.length)} is in a folder that is not key=value: a table's files sit directly in its folder or in key=value/ partition folders.`
      );
    }
    const names = pairs.map(p => p![1]);
    if (partitionKeys === null) {
      partitionKeys = names;
    } else if (names.join('/') !== partitionKeys.join('/')) {
      throw new LayoutError(
        `Partition folders disagree: ${partitionKeys.join('/') || '(none)'} and ${names.join('/') || '(none)'}.`
      );
    }
    const values = pairs.map(p => decodeURIComponent(p![2]));
    const id = values.join('\u0000');
    const folder = folders.map(f => `${f}/`).join('');
    const entry = partitions.get(id) ?? { values, folder, files: 0 };
    entry.files += 1;
    partitions.set(id, entry);
  }
  return {
    format,
    files,
    sample: files[0],
    partitionKeys: partitionKeys ?? [],
    partitions: partitionKeys?.length ? [...partitions.values()] : []
  };
}

/**
 * A table name suggested from the folder: its last name that is not a
 * partition folder, made a valid Glue name.
 *
 * @param prefix - the folder's key prefix
 */
export function suggestName(prefix: string): string {
  const parts = prefix.split('/').filter(p => p && !p.includes('='));
  const last = parts[parts.length - 1] ?? 'table';
  const name = last.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return /^[a-z_]/.test(name) ? name : `t_${name}`;
}

/**
 * Glue column names are lower case; Athena reads others as lower case anyway.
 *
 * @param name - a column name from the data
 */
export function columnName(name: string): string {
  return name.trim().toLowerCase();
}

const PARQUET = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat:
    'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: {
    SerializationLibrary:
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    Parameters: { 'serialization.format': '1' }
  }
};

function textFormat(delimiter: string) {
  return {
    InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
    SerdeInfo: {
      SerializationLibrary:
        'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
      Parameters: {
        'field.delim': delimiter,
        'serialization.format': delimiter
      }
    }
  };
}

/**
 * Problems with a plan, by field, before anything is sent to Glue.
 *
 * @param plan - the plan as edited
 * @param taken - table names that already exist in the plan's database
 */
export function planProblems(
  plan: ITablePlan,
  taken: readonly string[] = []
): string[] {
  const problems: string[] = [];
  if (!NAME_PATTERN.test(plan.database)) {
    problems.push(
      `Database "${plan.database}": use lower-case letters, digits and _.`
    );
  }
  if (!NAME_PATTERN.test(plan.name)) {
    problems.push(
      `Table name "${plan.name}": use lower-case letters, digits and _.`
    );
  } else if (taken.includes(plan.name)) {
    problems.push(
      `${plan.database}.${plan.name} already exists: choose another name.`
    );
  }
  if (plan.columns.length === 0) {
    problems.push('The table has no columns.');
  }
  const seen = new Set<string>();
  for (const column of [...plan.columns, ...plan.partitionKeys]) {
    if (!/^[a-z_][a-z0-9_ -]*$/i.test(column.name)) {
      problems.push(`Column "${column.name}" is not a name Athena can read.`);
    } else if (seen.has(column.name)) {
      problems.push(
        `Column "${column.name}" appears twice (a partition key cannot also be a column).`
      );
    }
    seen.add(column.name);
  }
  return problems;
}

/**
 * The Glue `TableInput` of a plan.
 *
 * @param plan - the checked plan
 */
export function tableInput(plan: ITablePlan): Record<string, any> {
  const text = plan.format !== 'parquet';
  const delimiter = plan.delimiter ?? (plan.format === 'tsv' ? '\t' : ',');
  return {
    Name: plan.name,
    TableType: 'EXTERNAL_TABLE',
    Parameters: {
      EXTERNAL: 'TRUE',
      classification: text ? 'csv' : 'parquet',
      ...(text ? { 'skip.header.line.count': '1' } : {}),
      created_by: 'jupyterlab-smallfry'
    },
    PartitionKeys: plan.partitionKeys.map(c => ({
      Name: c.name,
      Type: c.type
    })),
    StorageDescriptor: storage(plan, plan.location, delimiter)
  };
}

/**
 * The Glue `PartitionInput`s of a plan, in batches of at most 100 (the
 * `BatchCreatePartition` limit).
 *
 * @param plan - the checked plan
 */
export function partitionInputs(plan: ITablePlan): Record<string, any>[][] {
  const delimiter = plan.delimiter ?? (plan.format === 'tsv' ? '\t' : ',');
  const inputs = plan.partitions.map(p => ({
    Values: p.values,
    StorageDescriptor: storage(plan, plan.location + p.folder, delimiter)
  }));
  const batches: Record<string, any>[][] = [];
  for (let i = 0; i < inputs.length; i += 100) {
    batches.push(inputs.slice(i, i + 100));
  }
  return batches;
}

function storage(plan: ITablePlan, location: string, delimiter: string) {
  return {
    Columns: plan.columns.map(c => ({ Name: c.name, Type: c.type })),
    Location: location,
    ...(plan.format === 'parquet' ? PARQUET : textFormat(delimiter))
  };
}
