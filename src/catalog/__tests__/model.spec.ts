/**
 * @jest-environment node
 */
/**
 * The catalog model against the real Jupyter server (the gateway with moto's
 * Glue and S3, the table preview reader for schemas) the jest global setup
 * starts: register a folder of CSV files as a partitioned table, browse it,
 * and the clear refusals of folders that cannot be tables.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import {
  directS3,
  ensureBucket,
  BUCKET,
  motoOnly,
  serverSettings,
  uniqueFolder
} from '../../__tests__/harness/servers';
import { SmallFry } from '../../core/smallfry';
import { CatalogAPI } from '../api';
import { CatalogError, CatalogModel, queriesOf } from '../model';

/** moto serves Glue; Ceph's radosgw has no Glue to test against. */
const withGlue = motoOnly('radosgw has no Glue Data Catalog');

const CSV = (region: string) =>
  `order_id,amount,day\n1,${region === 'eu' ? 10.5 : 7},2025-01-31\n2,3.25,2025-02-01\n`;

describe('CatalogModel', () => {
  let s3: S3Client;
  let core: SmallFry;
  let api: CatalogAPI;
  // A fresh database per run: Glue names are lower case, digits and _.
  const database = `jest_${Date.now().toString(36)}`;

  const put = (key: string, body: string) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

  beforeAll(async () => {
    s3 = directS3();
    await ensureBucket(s3);
    core = new SmallFry({ serverSettings: serverSettings() });
    api = new CatalogAPI(core);
  });

  afterAll(() => {
    api.dispose();
    s3.destroy();
  });

  withGlue(
    'registers a partitioned CSV folder and shows its columns and partitions',
    async () => {
      const folder = `${uniqueFolder('orders')}/`;
      await put(`${folder}region=eu/year=2025/part-0.csv`, CSV('eu'));
      await put(`${folder}region=eu/year=2024/part-0.csv`, CSV('eu'));
      await put(`${folder}region=us/year=2025/part-0.csv`, CSV('us'));
      await put(`${folder}region=us/year=2025/part-1.csv`, CSV('us'));
      await put(`${folder}_SUCCESS`, '');

      const model = new CatalogModel(api);
      await model.refresh();
      expect(model.error).toBe('');
      const plan = await model.draft(BUCKET, folder);
      expect(plan.format).toBe('csv');
      expect(plan.location).toBe(`s3://${BUCKET}/${folder}`);
      expect(plan.delimiter).toBe(',');
      // Types from the preview reader's schema of the first file.
      expect(plan.columns).toEqual([
        { name: 'order_id', type: 'bigint' },
        { name: 'amount', type: 'double' },
        { name: 'day', type: 'date' }
      ]);
      expect(plan.partitionKeys).toEqual([
        { name: 'region', type: 'string' },
        { name: 'year', type: 'int' }
      ]);
      expect(plan.partitions).toHaveLength(3);

      const done = await model.register({ ...plan, database, name: 'orders' });
      expect(done).toEqual({
        database,
        name: 'orders',
        partitions: 3,
        partitionErrors: []
      });

      // What the panel then shows, read back from Glue.
      expect(model.databases?.map(d => d.name)).toContain(database);
      expect(model.tablesOf(database)?.map(t => t.name)).toEqual(['orders']);
      const details = model.detailsOf(database, 'orders')!;
      expect(details.table.location).toBe(`s3://${BUCKET}/${folder}`);
      expect(details.table.format).toBe('csv');
      expect(details.table.columns.map(c => `${c.name} ${c.type}`)).toEqual([
        'order_id bigint',
        'amount double',
        'day date'
      ]);
      expect(details.partitionCount).toBe(3);
      expect(details.morePartitions).toBe(false);
      expect(details.keys).toEqual([
        {
          key: 'region',
          values: [
            { value: 'eu', count: 2 },
            { value: 'us', count: 1 }
          ]
        },
        {
          key: 'year',
          values: [
            { value: '2025', count: 2 },
            { value: '2024', count: 1 }
          ]
        }
      ]);
      expect(queriesOf(database, 'orders')).toEqual([
        `SELECT * FROM ${database}.orders LIMIT 100`,
        `sf.table("${database}.orders")`
      ]);

      // The same name again: refused before anything is sent…
      await expect(
        model.register({ ...plan, database, name: 'orders' })
      ).rejects.toThrow(`${database}.orders already exists`);
      // …and by Glue when this browser did not know the table yet.
      const stale = new CatalogModel(api);
      await expect(
        stale.register({ ...plan, database, name: 'orders' })
      ).rejects.toThrow(/already exists/);
    }
  );

  it('says why a folder cannot be a table', async () => {
    const model = new CatalogModel(api);
    const empty = `${uniqueFolder('empty')}/`;
    await put(`${empty}_SUCCESS`, '');
    await expect(model.draft(BUCKET, empty)).rejects.toThrow(CatalogError);
    await expect(model.draft(BUCKET, empty)).rejects.toThrow(
      'This folder holds no data files.'
    );

    const mixed = `${uniqueFolder('mixed')}/`;
    await put(`${mixed}a.csv`, CSV('eu'));
    await put(`${mixed}b.parquet`, 'PAR1');
    await expect(model.draft(BUCKET, mixed)).rejects.toThrow(
      /mixes PARQUET and CSV/
    );

    const broken = `${uniqueFolder('broken')}/`;
    await put(`${broken}part-0.parquet`, 'this is not parquet at all');
    await expect(model.draft(BUCKET, broken)).rejects.toThrow(
      `The schema of s3://${BUCKET}/${broken}part-0.parquet could not be read`
    );
  });
});
