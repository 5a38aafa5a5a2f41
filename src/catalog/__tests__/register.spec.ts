/**
 * *Register as table* without I/O: a folder's layout from its keys, the Hive
 * types of the preview reader's Arrow types, and the Glue definitions. The
 * definitions are compared with `table-inputs.json`, which the server's
 * tests (`tests/test_catalog_register.py`) create in Glue and read back
 * with `sf.table` and `sf.sql`: what the browser sends is what was proven
 * readable.
 */
import {
  folderLayout,
  ITablePlan,
  LayoutError,
  partitionInputs,
  planProblems,
  suggestName,
  tableInput
} from '../register';
import { glueType, partitionKeyType } from '../types';

import golden from './table-inputs.json';

describe('glueType', () => {
  it.each([
    ['int64', 'bigint'],
    ['int32', 'int'],
    ['uint32', 'bigint'],
    ['double', 'double'],
    ['bool', 'boolean'],
    ['string', 'string'],
    ['large_string', 'string'],
    ['date32[day]', 'date'],
    ['timestamp[us, tz=Europe/Paris]', 'timestamp'],
    ['timestamp[ns]', 'timestamp'],
    ['time64[us]', 'string'],
    ['decimal128(12, 2)', 'decimal(12,2)'],
    ['decimal256(60, 4)', 'decimal(38,4)'],
    ['null', 'string'],
    ['list<element: int64>', 'array<bigint>'],
    ['large_list<item: string>', 'array<string>'],
    ['fixed_size_list<item: double>[3]', 'array<double>'],
    ['map<string, int64>', 'map<string,bigint>'],
    [
      'struct<A b: int64 not null, c: list<element: string>>',
      'struct<a_b:bigint,c:array<string>>'
    ],
    ['dictionary<values=string, indices=int32, ordered=0>', 'string'],
    [
      'list<element: struct<x: double, y: double>>',
      'array<struct<x:double,y:double>>'
    ],
    ['something_new', 'string'],
    ['list<element: int64', 'string']
  ])('%s → %s', (arrow, hive) => {
    expect(glueType(arrow)).toBe(hive);
  });
});

describe('partitionKeyType', () => {
  it('types whole numbers as int, keeps zero-padded and other values as text', () => {
    expect(partitionKeyType(['2024', '2025'])).toBe('int');
    expect(partitionKeyType(['20240101000000'])).toBe('bigint');
    expect(partitionKeyType(['01', '12'])).toBe('string');
    expect(partitionKeyType(['eu', 'us'])).toBe('string');
    expect(partitionKeyType([])).toBe('string');
  });
});

describe('folderLayout', () => {
  it('reads partitions from key=value folders and skips hidden files', () => {
    const layout = folderLayout('lake/sales/', [
      'lake/sales/',
      'lake/sales/_SUCCESS',
      'lake/sales/year=2025/month=1/part-1.parquet',
      'lake/sales/year=2025/month=1/part-0.parquet',
      'lake/sales/year=2025/month=1/.part-0.parquet.crc',
      'lake/sales/year=2024/month=12/part-0.parquet',
      'lake/sales/_temporary/0/part-9.parquet'
    ]);
    expect(layout.format).toBe('parquet');
    expect(layout.sample).toBe('lake/sales/year=2024/month=12/part-0.parquet');
    expect(layout.partitionKeys).toEqual(['year', 'month']);
    expect(layout.partitions).toEqual([
      { values: ['2024', '12'], folder: 'year=2024/month=12/', files: 1 },
      { values: ['2025', '1'], folder: 'year=2025/month=1/', files: 2 }
    ]);
  });

  it.each([
    [[], /no data files/],
    [['d/_SUCCESS'], /no data files/],
    [
      ['d/part-00000'],
      /No Parquet, CSV or TSV files here \(found e\.g\. part-00000\)/
    ],
    [['d/a.parquet', 'd/b.csv'], /mixes PARQUET and CSV/],
    [
      ['d/a.csv', 'd/notes.txt'],
      /mixes CSV and other files \(e\.g\. notes\.txt\)/
    ],
    [['d/x/a.csv'], /x\/a\.csv is in a folder that is not key=value/],
    [
      ['d/year=1/a.csv', 'd/region=eu/a.csv'],
      /Partition folders disagree: region and year\./
    ],
    [['d/a.csv', 'd/year=1/a.csv'], /Partition folders disagree/]
  ])('refuses %j with a clear reason', (keys, reason) => {
    expect(() => folderLayout('d/', keys as string[])).toThrow(LayoutError);
    expect(() => folderLayout('d/', keys as string[])).toThrow(reason);
  });

  it('suggests the folder name, not a partition folder, as the table name', () => {
    expect(suggestName('lake/Daily Sales/')).toBe('daily_sales');
    expect(suggestName('lake/sales/year=2025/')).toBe('sales');
    expect(suggestName('2025-exports/')).toBe('t_2025_exports');
  });
});

describe('the Glue definitions', () => {
  const plans = golden.plans as unknown as ITablePlan[];

  it.each(plans.map((plan, i) => [plan.name, i]))(
    '%s is the table and partitions the server proved readable',
    (_, i) => {
      const plan = plans[i as number];
      expect(tableInput(plan)).toEqual(golden.tables[i as number]);
      expect(partitionInputs(plan)).toEqual(golden.partitions[i as number]);
    }
  );

  it('sends partitions in batches of at most 100', () => {
    const plan = {
      ...plans[0],
      partitions: Array.from({ length: 250 }, (_, n) => ({
        values: [String(n), '1'],
        folder: `year=${n}/month=1/`,
        files: 1
      }))
    };
    expect(partitionInputs(plan).map(b => b.length)).toEqual([100, 100, 50]);
  });

  it('finds bad names, taken names and duplicate columns before Glue does', () => {
    const plan = plans[0];
    expect(planProblems(plan)).toEqual([]);
    expect(planProblems(plan, [plan.name])).toEqual([
      `${plan.database}.${plan.name} already exists: choose another name.`
    ]);
    expect(
      planProblems({ ...plan, name: 'Bad-Name', database: '' }).length
    ).toBe(2);
    const twice = {
      ...plan,
      columns: [...plan.columns, { name: 'year', type: 'int' }]
    };
    expect(planProblems(twice)).toEqual([
      'Column "year" appears twice (a partition key cannot also be a column).'
    ]);
  });
});
