/**
 * The Catalog's I/O: the AWS Glue Data Catalog through the core's gateway
 * client (`@aws-sdk/client-glue`, loaded on first use so start-up stays
 * small), the S3 listing of a folder through the core's S3 client, and the
 * schema of one data file from the server's table preview reader
 * (`GET smallfry/preview?rows=0`, which reads only a Parquet footer or the
 * first MiB of text). The model only sees {@link ICatalogAPI}, so it is
 * tested against the real servers through this module alone.
 */
import type { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../api';
import { serverPath } from '../contract';
import type { ISmallFry } from '../tokens';

/** A catalog database. */
export interface IDatabase {
  name: string;
  description?: string;
}

/** A column (or partition key) and its Hive type. */
export interface IGlueColumn {
  name: string;
  type: string;
  comment?: string;
}

/** A catalog table, as the panel shows it. */
export interface ITable {
  database: string;
  name: string;
  /** `s3://…/` where its files are, or `""`. */
  location: string;
  /** `parquet`, `csv`, `json` or the SerDe's name. */
  format: string;
  columns: IGlueColumn[];
  partitionKeys: IGlueColumn[];
  /** The table's own parameters (classification, delimiter…). */
  parameters: Record<string, string>;
}

/** One partition: its values in key order. */
export interface IPartition {
  values: string[];
  location: string;
}

/** A page of partitions; `more` when Glue has others. */
export interface IPartitionPage {
  partitions: IPartition[];
  more: boolean;
}

/** The schema the preview reader found in one data file. */
export interface IFileSchema {
  columns: { name: string; type: string }[];
  /** The CSV/TSV delimiter it detected. */
  delimiter?: string | null;
}

/** What the catalog model needs from the outside world. */
export interface ICatalogAPI {
  databases(): Promise<IDatabase[]>;
  tables(database: string): Promise<ITable[]>;
  table(database: string, name: string): Promise<ITable>;
  partitions(
    database: string,
    table: string,
    max: number
  ): Promise<IPartitionPage>;
  createDatabase(name: string): Promise<void>;
  createTable(database: string, input: Record<string, any>): Promise<void>;
  /** Returns the error messages Glue gave for partitions it refused. */
  createPartitions(
    database: string,
    table: string,
    inputs: Record<string, any>[]
  ): Promise<string[]>;
  /** Every object key below `prefix` in `bucket`. */
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  /** The schema of `s3://bucket/key`. */
  fileSchema(uri: string): Promise<IFileSchema>;
}

type GlueModule = typeof import('@aws-sdk/client-glue');

/**
 * The real {@link ICatalogAPI}: Glue and S3 through the gateway, schemas
 * from the server's preview reader.
 */
export class CatalogAPI implements ICatalogAPI {
  /**
   * @param smallfry - the Small Fry core (gateway clients, S3 client)
   */
  constructor(private readonly _smallfry: ISmallFry) {}

  async databases(): Promise<IDatabase[]> {
    const { sdk, client } = await this._glue();
    const found: IDatabase[] = [];
    let token: string | undefined;
    do {
      const out = await client.send(
        new sdk.GetDatabasesCommand({ NextToken: token })
      );
      for (const db of out.DatabaseList ?? []) {
        found.push({ name: db.Name ?? '', description: db.Description });
      }
      token = out.NextToken || undefined;
    } while (token);
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }

  async tables(database: string): Promise<ITable[]> {
    const { sdk, client } = await this._glue();
    const found: ITable[] = [];
    let token: string | undefined;
    do {
      const out = await client.send(
        new sdk.GetTablesCommand({ DatabaseName: database, NextToken: token })
      );
      for (const t of out.TableList ?? []) {
        found.push(toTable(database, t));
      }
      token = out.NextToken || undefined;
    } while (token);
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }

  async table(database: string, name: string): Promise<ITable> {
    const { sdk, client } = await this._glue();
    const out = await client.send(
      new sdk.GetTableCommand({ DatabaseName: database, Name: name })
    );
    return toTable(database, out.Table ?? {});
  }

  async partitions(
    database: string,
    table: string,
    max: number
  ): Promise<IPartitionPage> {
    const { sdk, client } = await this._glue();
    const out = await client.send(
      new sdk.GetPartitionsCommand({
        DatabaseName: database,
        TableName: table,
        MaxResults: max
      })
    );
    return {
      partitions: (out.Partitions ?? []).map(p => ({
        values: p.Values ?? [],
        location: p.StorageDescriptor?.Location ?? ''
      })),
      more: Boolean(out.NextToken)
    };
  }

  async createDatabase(name: string): Promise<void> {
    const { sdk, client } = await this._glue();
    await client.send(
      new sdk.CreateDatabaseCommand({ DatabaseInput: { Name: name } })
    );
  }

  async createTable(
    database: string,
    input: Record<string, any>
  ): Promise<void> {
    const { sdk, client } = await this._glue();
    await client.send(
      new sdk.CreateTableCommand({
        DatabaseName: database,
        TableInput: input as any
      })
    );
  }

  async createPartitions(
    database: string,
    table: string,
    inputs: Record<string, any>[]
  ): Promise<string[]> {
    const { sdk, client } = await this._glue();
    const out = await client.send(
      new sdk.BatchCreatePartitionCommand({
        DatabaseName: database,
        TableName: table,
        PartitionInputList: inputs as any
      })
    );
    return (out.Errors ?? []).map(
      e =>
        `${(e.PartitionValues ?? []).join('/')}: ${e.ErrorDetail?.ErrorMessage ?? e.ErrorDetail?.ErrorCode ?? ''}`
    );
  }

  async listKeys(bucket: string, prefix: string): Promise<string[]> {
    const s3 = await this._smallfry.s3;
    const keys: string[] = [];
    for await (const page of s3.listAll(bucket, prefix)) {
      keys.push(...page.map(o => o.key));
    }
    return keys;
  }

  async fileSchema(uri: string): Promise<IFileSchema> {
    const answer = await requestAPI<{
      schema: { name: string; type: string }[];
      delimiter?: string | null;
    }>(
      `${serverPath('preview')}?uri=${encodeURIComponent(uri)}&rows=0`,
      this._smallfry.serverSettings as ServerConnection.ISettings
    );
    return { columns: answer.schema, delimiter: answer.delimiter };
  }

  /** Release the Glue client. */
  dispose(): void {
    void this._client?.then(({ client }) => client.destroy());
    this._client = null;
  }

  private _glue(): Promise<{
    sdk: GlueModule;
    client: import('@aws-sdk/client-glue').GlueClient;
  }> {
    if (!this._client) {
      this._client = (async () => {
        const sdk = await import('@aws-sdk/client-glue');
        const client = await this._smallfry.createClient(
          'glue',
          sdk.GlueClient,
          { maxAttempts: 2 }
        );
        return { sdk, client };
      })();
      this._client.catch(() => {
        this._client = null;
      });
    }
    return this._client;
  }

  private _client: Promise<{
    sdk: GlueModule;
    client: import('@aws-sdk/client-glue').GlueClient;
  }> | null = null;
}

/**
 * A table's format from its SerDe and InputFormat, as `sf.table` reads it.
 *
 * @param raw - Glue's `Table`
 */
export function formatOf(raw: any): string {
  const sd = raw?.StorageDescriptor ?? {};
  const hints = [
    sd.SerdeInfo?.SerializationLibrary,
    sd.InputFormat,
    raw?.Parameters?.classification
  ]
    .join(' ')
    .toLowerCase();
  if (hints.includes('parquet')) {
    return 'parquet';
  }
  if (hints.includes('json')) {
    return 'json';
  }
  if (
    hints.includes('csv') ||
    hints.includes('lazysimpleserde') ||
    hints.includes('textinputformat')
  ) {
    return 'csv';
  }
  return sd.SerdeInfo?.SerializationLibrary ?? '';
}

function toTable(database: string, raw: any): ITable {
  const sd = raw.StorageDescriptor ?? {};
  const column = (c: any): IGlueColumn => ({
    name: c.Name ?? '',
    type: c.Type ?? '',
    comment: c.Comment
  });
  return {
    database,
    name: raw.Name ?? '',
    location: sd.Location ?? '',
    format: formatOf(raw),
    columns: (sd.Columns ?? []).map(column),
    partitionKeys: (raw.PartitionKeys ?? []).map(column),
    parameters: { ...(raw.Parameters ?? {}) }
  };
}
