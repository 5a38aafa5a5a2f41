/**
 * Check a job spec the way the server does (`jobs/validation.py`): the one
 * JSON Schema first (with ajv), then what a schema cannot say. Each problem
 * names its field as a dotted path (`schedule.cron`) so the dialog can show
 * it next to that field.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';

import { API_VERSION } from './api';
import { checkCron, parseWallTime } from './cron';

/** One problem with a spec. */
export interface ISpecError {
  /** Dotted path of the field at fault; "" for the spec as a whole. */
  field: string;
  message: string;
}

/** Placeholders an output template may use. */
export const OUTPUT_PLACEHOLDERS = ['owner', 'job_id', 'run_id'];

const PY_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del ' +
    'elif else except finally for from global if import in is lambda ' +
    'nonlocal not or pass raise return try while with yield'
  ).split(' ')
);

/** A Python identifier that papermill can assign. */
export function isIdentifier(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !PY_KEYWORDS.has(name);
}

/**
 * Load the job spec schema shipped by the server extension (bundled by the
 * builder; see `schema.d.ts`).
 */
export async function loadSchema(): Promise<Record<string, unknown>> {
  const mod =
    await import('../../server-ext/jupyterlab_smallfry/jobs/jobspec.schema');
  return (mod.default ?? mod) as Record<string, unknown>;
}

/**
 * A compiled validator of job specs.
 */
export class SpecValidator {
  private constructor(validate: ValidateFunction) {
    this._validate = validate;
  }

  /**
   * Compile `schema` (draft 2020-12) with ajv, loaded on first use.
   */
  static async create(schema: Record<string, unknown>): Promise<SpecValidator> {
    const Ajv2020 = (await import('ajv/dist/2020')).default;
    // Formats are not checked by the server's jsonschema either.
    const ajv = new Ajv2020({
      allErrors: true,
      strict: false,
      validateFormats: false
    });
    return new SpecValidator(ajv.compile(schema));
  }

  /**
   * Every problem in `spec` (empty: valid). Schema problems come first and,
   * as on the server, the semantic checks run only on a schema-valid spec
   * unless `everything` is set (for the form).
   */
  validate(spec: unknown, everything = false): ISpecError[] {
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      return [{ field: '', message: 'a job spec must be a JSON object' }];
    }
    if (!this._validate(spec)) {
      const seen = new Set<string>();
      const errors: ISpecError[] = [];
      for (const err of this._validate.errors ?? []) {
        // An if/then failure is also reported as the failing `required`.
        if (err.keyword === 'if') {
          continue;
        }
        const e = schemaError(err);
        const key = `${e.field}\0${e.message}`;
        if (!seen.has(key)) {
          seen.add(key);
          errors.push(e);
        }
      }
      errors.sort((a, b) =>
        a.field < b.field ? -1 : a.field > b.field ? 1 : 0
      );
      if (everything) {
        // A form shows every problem at once, not only the schema's.
        const faulty = new Set(errors.map(e => e.field));
        try {
          for (const e of semanticErrors(spec as Record<string, any>)) {
            if (!faulty.has(e.field)) {
              errors.push(e);
            }
          }
        } catch {
          // A spec too broken for the semantic checks: the schema said why.
        }
      }
      return errors;
    }
    return semanticErrors(spec as Record<string, any>);
  }

  private _validate: ValidateFunction;
}

function schemaError(err: ErrorObject): ISpecError {
  const path = err.instancePath
    .split('/')
    .slice(1)
    .map(p => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = err.params as Record<string, any>;
  if (err.keyword === 'required') {
    path.push(params.missingProperty);
    return { field: path.join('.'), message: 'is required' };
  }
  if (err.keyword === 'additionalProperties') {
    return {
      field: path.join('.'),
      message: `unknown field ${params.additionalProperty}`
    };
  }
  const propertyName = (err as any).propertyName ?? params.propertyName;
  if (err.keyword === 'propertyNames' || typeof propertyName === 'string') {
    path.push(propertyName);
    return {
      field: path.join('.'),
      message: `'${propertyName}' is not a valid parameter name (letters, digits, _; not starting with a digit)`
    };
  }
  if (err.keyword === 'pattern' && path[path.length - 1] === 'id') {
    return {
      field: path.join('.'),
      message:
        "must be 1-63 characters: lower-case letters, digits, '-' and '_', starting with a letter or digit"
    };
  }
  if (err.keyword === 'const' && path.join('.') === 'apiVersion') {
    return {
      field: 'apiVersion',
      message: `must be '${API_VERSION}'`
    };
  }
  return { field: path.join('.'), message: err.message ?? err.keyword };
}

/** `YYYY-MM-DD[THH:MM[:SS]]` that names a real day and time. */
export function checkStartDate(text: string): string {
  if (Number.isNaN(parseWallTime(text))) {
    throw new Error(`'${text}' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)`);
  }
  return text;
}

/**
 * An IANA time zone the browser knows (offsets like `+02:00` are not zones).
 */
export function checkTimezone(name: string): string {
  const message = `'${name}' is not an IANA time zone (for example Europe/Amsterdam)`;
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) {
    throw new Error(message);
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', {
      timeZone: name
    }).resolvedOptions().timeZone;
  } catch {
    throw new Error(message);
  }
  // Intl ignores case; the tz database (and so Airflow) does not.
  if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) {
    throw new Error(message);
  }
  return name;
}

/**
 * An output folder template: `s3://bucket/...` or an absolute path, with
 * `{owner}` and `{job_id}` and ending in `{run_id}/`.
 */
export function checkOutputTemplate(template: string): string {
  if (!(template.startsWith('s3://') || template.startsWith('/'))) {
    throw new Error('must start with s3:// or be an absolute folder path');
  }
  if (template.includes('{{') || template.includes('}}')) {
    throw new Error(
      'braces are only for the placeholders {owner}, {job_id} and {run_id}'
    );
  }
  const used: string[] = [];
  const allowed = OUTPUT_PLACEHOLDERS.map(p => `{${p}}`).join(', ');
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    if (ch === '}') {
      throw new Error("Single '}' encountered in format string");
    }
    if (ch === '{') {
      const close = template.indexOf('}', i);
      if (close < 0) {
        throw new Error("expected '}' before end of string");
      }
      const field = template.slice(i + 1, close);
      if (!OUTPUT_PLACEHOLDERS.includes(field)) {
        throw new Error(`unknown placeholder {${field}}; use ${allowed}`);
      }
      used.push(field);
      i = close + 1;
      continue;
    }
    i++;
  }
  if (!template.endsWith('{run_id}/')) {
    throw new Error('must end with {run_id}/ so every run gets its own folder');
  }
  for (const needed of ['owner', 'job_id']) {
    if (!used.slice(0, -1).includes(needed)) {
      throw new Error(
        `must contain {${needed}} before {run_id}, so jobs never share a folder`
      );
    }
  }
  if (template.split('/').includes('..')) {
    throw new Error("must not contain '..'");
  }
  return template;
}

function semanticErrors(spec: Record<string, any>): ISpecError[] {
  const errors: ISpecError[] = [];
  for (const name of Object.keys(spec.parameters ?? {})) {
    if (!isIdentifier(name)) {
      errors.push({
        field: `parameters.${name}`,
        message: `'${name}' is not a valid Python identifier`
      });
    }
  }
  const schedule = spec.schedule;
  if (schedule.type === 'cron') {
    const checks: [string, (v: string) => string, string][] = [
      ['schedule.cron', checkCron, schedule.cron],
      ['schedule.timezone', checkTimezone, schedule.timezone],
      ['schedule.start_date', checkStartDate, schedule.start_date]
    ];
    for (const [field, check, value] of checks) {
      try {
        check(value);
      } catch (err) {
        errors.push({ field, message: (err as Error).message });
      }
    }
  }
  const template = spec.output?.uri_template;
  if (template !== undefined) {
    try {
      checkOutputTemplate(template);
    } catch (err) {
      errors.push({
        field: 'output.uri_template',
        message: (err as Error).message
      });
    }
  }
  return errors;
}
