/**
 * The Catalog panel's state: databases → tables → a table's details
 * (columns, partition keys with sample values, location), and the
 * *Register as table* flow from an S3 folder. No DOM: tested in Node
 * against the real servers through {@link ICatalogAPI}.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type { ICatalogAPI, IDatabase, IPartitionPage, ITable } from './api';
// Register as table's rules load with its first use, not with JupyterLab.
import type { ITablePlan } from './register';

/** How many partitions a table's details sample. */
export const PARTITION_SAMPLE = 500;

/** The values a partition key takes in the sample, and how often. */
export interface IKeyValues {
  key: string;
  /** value → number of partitions, most frequent first. */
  values: { value: string; count: number }[];
}

/** What the panel shows for one table. */
export interface ITableDetails {
  table: ITable;
  /** Per partition key, from up to {@link PARTITION_SAMPLE} partitions. */
  keys: IKeyValues[];
  partitionCount: number;
  /** Whether the table has more partitions than sampled. */
  morePartitions: boolean;
}

/** The result of registering a table. */
export interface IRegistered {
  database: string;
  name: string;
  partitions: number;
  /** Glue's messages for partitions it refused (the table exists). */
  partitionErrors: string[];
}

/** A failure the panel shows as it is. */
export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}

/**
 * Databases, tables and their details, loaded on demand and kept until
 * refreshed.
 */
export class CatalogModel {
  /**
   * @param api - Glue, S3 and the schema reader
   */
  constructor(private readonly _api: ICatalogAPI) {}

  /** Emitted whenever anything shown changed (loaded, failed, refreshed). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The databases, or `null` before the first load. */
  get databases(): readonly IDatabase[] | null {
    return this._databases;
  }

  /** The last error of loading databases, or `""`. */
  get error(): string {
    return this._error;
  }

  /** Tables of a database, or `undefined` when not loaded. */
  tablesOf(database: string): readonly ITable[] | undefined {
    return this._tables.get(database);
  }

  /** Details of a table, or `undefined` when not loaded. */
  detailsOf(database: string, table: string): ITableDetails | undefined {
    return this._details.get(`${database}.${table}`);
  }

  /** The error of loading a database's tables or a table's details. */
  errorOf(key: string): string {
    return this._errors.get(key) ?? '';
  }

  /** Load (again) the list of databases; forget loaded tables. */
  async refresh(): Promise<void> {
    try {
      this._databases = await this._api.databases();
      this._error = '';
    } catch (error) {
      this._error = messageOf(error, 'glue:GetDatabases');
    }
    this._tables.clear();
    this._details.clear();
    this._errors.clear();
    this._changed.emit();
  }

  /**
   * Load a database's tables.
   *
   * @param database - the database name
   */
  async loadTables(database: string): Promise<readonly ITable[]> {
    try {
      const tables = await this._api.tables(database);
      this._tables.set(database, tables);
      this._errors.delete(database);
      return tables;
    } catch (error) {
      this._errors.set(database, messageOf(error, 'glue:GetTables'));
      return [];
    } finally {
      this._changed.emit();
    }
  }

  /**
   * Load a table's details: its definition and a sample of its partitions.
   *
   * @param database - the database
   * @param name - the table
   */
  async loadDetails(
    database: string,
    name: string
  ): Promise<ITableDetails | undefined> {
    const key = `${database}.${name}`;
    try {
      const table = await this._api.table(database, name);
      let page: IPartitionPage = { partitions: [], more: false };
      if (table.partitionKeys.length > 0) {
        page = await this._api.partitions(database, name, PARTITION_SAMPLE);
      }
      const details: ITableDetails = {
        table,
        keys: keyValues(
          table.partitionKeys.map(k => k.name),
          page.partitions.map(p => p.values)
        ),
        partitionCount: page.partitions.length,
        morePartitions: page.more
      };
      this._details.set(key, details);
      this._errors.delete(key);
      return details;
    } catch (error) {
      this._errors.set(key, messageOf(error, 'glue:GetTable'));
      return undefined;
    } finally {
      this._changed.emit();
    }
  }

  /**
   * Look at an S3 folder and draft the table it would be: format, columns
   * with Hive types (from the first data file's schema), partition keys
   * and values from `key=value/` folders.
   *
   * @param bucket - the bucket
   * @param prefix - the folder's key prefix (a trailing `/` is added)
   * @throws CatalogError saying why the folder cannot be a table
   */
  async draft(bucket: string, prefix: string): Promise<ITablePlan> {
    const { columnName, folderLayout, suggestName } =
      await import('./register');
    const { glueType, partitionKeyType } = await import('./types');
    const folder =
      prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    let keys: string[];
    try {
      keys = await this._api.listKeys(bucket, folder);
    } catch (error) {
      throw new CatalogError(
        messageOf(error, 's3:ListBucket', `arn:aws:s3:::${bucket}`)
      );
    }
    let layout;
    try {
      layout = folderLayout(folder, keys);
    } catch (error) {
      throw new CatalogError((error as Error).message);
    }
    let schema;
    try {
      schema = await this._api.fileSchema(`s3://${bucket}/${layout.sample}`);
    } catch (error) {
      throw new CatalogError(
        `The schema of s3://${bucket}/${layout.sample} could not be read: ${messageOf(error, 's3:GetObject')}`
      );
    }
    const keyNames = layout.partitionKeys.map(columnName);
    const columns = schema.columns
      .map(c => ({ name: columnName(c.name), type: glueType(c.type) }))
      // Parquet written by some tools repeats the partition key as a column.
      .filter(c => !keyNames.includes(c.name));
    const databases = this._databases ?? [];
    return {
      database: databases.length > 0 ? databases[0].name : 'default',
      name: suggestName(folder),
      location: `s3://${bucket}/${folder}`,
      format: layout.format,
      columns,
      partitionKeys: keyNames.map((name, i) => ({
        name,
        type: partitionKeyType(layout.partitions.map(p => p.values[i]))
      })),
      partitions: layout.partitions,
      delimiter:
        layout.format === 'parquet'
          ? undefined
          : (schema.delimiter ?? (layout.format === 'tsv' ? '\t' : ','))
    };
  }

  /**
   * The problems of a plan (empty when it can be registered).
   *
   * @param plan - the plan as edited
   */
  async problems(plan: ITablePlan): Promise<string[]> {
    const { planProblems } = await import('./register');
    let taken: string[] = [];
    if (this._databases?.some(d => d.name === plan.database)) {
      const tables =
        this._tables.get(plan.database) ??
        (await this.loadTables(plan.database));
      taken = tables.map(t => t.name);
    }
    return planProblems(plan, taken);
  }

  /**
   * Create the Glue table of a plan, its database first when it is new,
   * then its partitions; then show it.
   *
   * @param plan - the plan as edited
   * @throws CatalogError with the problems or Glue's refusal
   */
  async register(plan: ITablePlan): Promise<IRegistered> {
    const { partitionInputs, tableInput } = await import('./register');
    const problems = await this.problems(plan);
    if (problems.length > 0) {
      throw new CatalogError(problems.join('\n'));
    }
    if (!this._databases?.some(d => d.name === plan.database)) {
      try {
        await this._api.createDatabase(plan.database);
      } catch (error) {
        if (codeOf(error) !== 'AlreadyExistsException') {
          throw new CatalogError(
            `The database ${plan.database} could not be created: ${messageOf(error, 'glue:CreateDatabase')}`
          );
        }
      }
    }
    try {
      await this._api.createTable(plan.database, tableInput(plan));
    } catch (error) {
      if (codeOf(error) === 'AlreadyExistsException') {
        throw new CatalogError(
          `${plan.database}.${plan.name} already exists: choose another name.`
        );
      }
      throw new CatalogError(
        `${plan.database}.${plan.name} could not be created: ${messageOf(error, 'glue:CreateTable')}`
      );
    }
    const partitionErrors: string[] = [];
    for (const batch of partitionInputs(plan)) {
      try {
        partitionErrors.push(
          ...(await this._api.createPartitions(plan.database, plan.name, batch))
        );
      } catch (error) {
        partitionErrors.push(messageOf(error, 'glue:BatchCreatePartition'));
        break;
      }
    }
    await this.refresh();
    await this.loadTables(plan.database);
    await this.loadDetails(plan.database, plan.name);
    return {
      database: plan.database,
      name: plan.name,
      partitions: plan.partitions.length,
      partitionErrors
    };
  }

  private _databases: IDatabase[] | null = null;
  private _error = '';
  private _tables = new Map<string, ITable[]>();
  private _details = new Map<string, ITableDetails>();
  private _errors = new Map<string, string>();
  private _changed = new Signal<this, void>(this);
}

/**
 * Per key, the values the partitions take and how many partitions have
 * each, most frequent first (then by value).
 *
 * @param keys - the partition keys
 * @param partitions - each partition's values, in key order
 */
export function keyValues(
  keys: readonly string[],
  partitions: readonly string[][]
): IKeyValues[] {
  return keys.map((key, i) => {
    const counts = new Map<string, number>();
    for (const values of partitions) {
      counts.set(values[i], (counts.get(values[i]) ?? 0) + 1);
    }
    return {
      key,
      values: [...counts.entries()]
        .map(([value, count]) => ({ value, count }))
        .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
    };
  });
}

/**
 * The queries offered by *Copy query*.
 *
 * @param database - the database
 * @param table - the table
 */
export function queriesOf(database: string, table: string): string[] {
  return [
    `SELECT * FROM ${database}.${table} LIMIT 100`,
    `sf.table("${database}.${table}")`
  ];
}

function codeOf(error: unknown): string {
  const err = error as any;
  return String(err?.code ?? err?.name ?? '');
}

/**
 * A message for the panel: access denied says which permission is missing.
 */
function messageOf(error: unknown, action: string, resource = ''): string {
  const err = error as any;
  const message = String(err?.message ?? error);
  const code = codeOf(error);
  if (err?.gatewayCode === 'ActionNotAllowed') {
    return message;
  }
  if (
    code === 'AccessDeniedException' ||
    code === 'AccessDenied' ||
    err?.status === 403
  ) {
    const on = resource ? ` on ${resource}` : '';
    return `Access denied: your AWS identity needs ${action}${on}. ${message}`;
  }
  return message;
}
