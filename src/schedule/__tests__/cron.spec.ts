/**
 * The next-runs preview against golden fixtures made by real Airflow
 * (`CronTriggerTimetable`), DST nights included, and the cron grammar.
 */
import * as fs from 'fs';
import * as path from 'path';

import {
  checkCron,
  CronError,
  describeCron,
  nextRuns,
  parseWallTime,
  wallToUtc
} from '../cron';

const FIXTURES = path.resolve(
  __dirname,
  '../../../server-ext/jupyterlab_smallfry/jobs/fixtures'
);

interface IGoldenCase {
  name: string;
  cron: string;
  timezone: string;
  start: string;
  start_utc: string;
  next_utc: string[];
  next_local: string[];
}

const golden: { cases: IGoldenCase[] } = JSON.parse(
  fs.readFileSync(path.join(FIXTURES, 'cron-golden.json'), 'utf-8')
);

describe('nextRuns matches Airflow', () => {
  it('has golden cases', () => {
    expect(golden.cases.length).toBeGreaterThan(10);
  });

  it.each(golden.cases.map(c => [c.name, c] as [string, IGoldenCase]))(
    '%s',
    async (_name, c) => {
      const start = wallToUtc(parseWallTime(c.start), c.timezone);
      expect(new Date(start).toISOString().replace('.000Z', 'Z')).toBe(
        c.start_utc
      );
      const runs = await nextRuns(c.cron, c.timezone, start, c.next_utc.length);
      expect(runs.map(r => r.utc)).toEqual(c.next_utc);
      expect(runs.map(r => r.local)).toEqual(c.next_local);
    }
  );
});

describe('checkCron', () => {
  it.each([
    ['@daily', '0 0 * * *'],
    ['@quarterly', '0 0 1 */3 *'],
    ['0 6 * * 1-5', '0 6 * * 1-5'],
    ['  */15  9-17 * JAN,jul mon-fri ', '*/15 9-17 * JAN,jul mon-fri'],
    ['45 23 * * 7', '45 23 * * 7']
  ])('accepts %s', (expr, expected) => {
    expect(checkCron(expr)).toBe(expected);
  });

  it.each([
    ['@once', /unknown preset/],
    ['0 0 * * * 30', /needs 5 fields/],
    ['0 24 * * *', /hour: 24 is outside 0-23/],
    ['0 0 L * *', /day of month: 'L' is not a number/],
    ['0 0 ? * MON', /is not a number/],
    ['0 0 31 2 *', /never occurs/],
    ['5-1 * * * *', /runs backwards/],
    ['*/0 * * * *', /step '0'/]
  ])('refuses %s', (expr, message) => {
    expect(() => checkCron(expr)).toThrow(CronError);
    expect(() => checkCron(expr)).toThrow(message);
  });
});

describe('describeCron', () => {
  it('puts a weekday schedule in words', async () => {
    expect(await describeCron('0 6 * * 1-5')).toBe(
      'At 06:00, Monday through Friday'
    );
  });
});
