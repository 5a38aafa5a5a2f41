/**
 * The front end refuses the same specs as the server: the shared fixtures of
 * `server-ext/jupyterlab_smallfry/jobs/fixtures`, checked against the one
 * schema file (read from disk here; the builder bundles it in the app).
 */
import * as fs from 'fs';
import * as path from 'path';

import {
  checkOutputTemplate,
  checkTimezone,
  SpecValidator
} from '../validation';

const JOBS = path.resolve(
  __dirname,
  '../../../server-ext/jupyterlab_smallfry/jobs'
);

function readJSON(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf-8'));
}

function fixtures(kind: 'valid' | 'invalid'): [string, any][] {
  const dir = path.join(JOBS, 'fixtures', kind);
  return fs
    .readdirSync(dir)
    .filter(f => f.endsWith('.json'))
    .sort()
    .map(f => [f, readJSON(path.join(dir, f))]);
}

let validator: SpecValidator;

beforeAll(async () => {
  validator = await SpecValidator.create(
    readJSON(path.join(JOBS, 'jobspec.schema.json'))
  );
});

describe('valid fixtures', () => {
  it.each(fixtures('valid'))('%s passes', (_name, spec) => {
    expect(validator.validate(spec)).toEqual([]);
  });
});

describe('invalid fixtures', () => {
  it.each(fixtures('invalid'))('%s fails on its field', (_name, fixture) => {
    const errors = validator.validate(fixture.spec);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map(e => e.field)).toContain(fixture.field);
    for (const e of errors) {
      expect(e.message).not.toBe('');
    }
  });
});

describe('semantic checks', () => {
  it('refuses zones that differ only in case, and offsets', () => {
    expect(checkTimezone('Europe/Amsterdam')).toBe('Europe/Amsterdam');
    expect(checkTimezone('UTC')).toBe('UTC');
    expect(() => checkTimezone('europe/amsterdam')).toThrow(/IANA/);
    expect(() => checkTimezone('+02:00')).toThrow(/IANA/);
  });

  it('names the problem with an output template', () => {
    expect(
      checkOutputTemplate('s3://b/runs/{owner}/{job_id}/{run_id}/')
    ).toBeTruthy();
    expect(() => checkOutputTemplate('s3://b/{job_id}/{owner}/x/')).toThrow(
      /end with \{run_id\}/
    );
    expect(() => checkOutputTemplate('s3://b/{job_id}/{run_id}/')).toThrow(
      /must contain \{owner\}/
    );
    expect(() =>
      checkOutputTemplate('s3://b/../{owner}/{job_id}/{run_id}/')
    ).toThrow(/'\.\.'/);
  });
});
