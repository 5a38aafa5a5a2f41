/**
 * The dialogs before running a job again: *Run with other parameters* (the
 * typed parameter fields, prefilled with a past run's values) and
 * *Reproduce* (which inputs of the run changed since, or are gone).
 *
 * Stable selectors for UI tests: the parameters dialog's body is
 * `.jp-smallfry-RunParametersForm`, each field has `name="parameters.<name>"`
 * and its problem is `.jp-smallfry-FieldError[data-field]`; the reproduce
 * dialog's body is `.jp-smallfry-ReproduceInputs`, each input listed
 * `.jp-smallfry-ReproduceInput[data-state="changed"|"missing"]`.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IJob, IRunInput, IRunManifest, ParameterValue } from './api';
import { ParameterInput } from './field';
import { coerceValue, formatValue, ParameterType, typeOf } from './parameters';
import { objectUri } from './runs';

/** One field of the parameters dialog. */
export interface IParameterField {
  name: string;
  type: ParameterType;
  text: string;
}

/**
 * The fields to offer: the job's parameters (their type from the spec),
 * prefilled with the run's values; a parameter only the run had is offered
 * too, typed by its value.
 */
export function parameterFields(
  job: IJob,
  run: IRunManifest | null
): IParameterField[] {
  const spec = job.spec.parameters ?? {};
  const used = run?.parameters ?? {};
  const names = [...Object.keys(spec)];
  for (const name of Object.keys(used)) {
    if (!names.includes(name)) {
      names.push(name);
    }
  }
  return names.map(name => {
    const typed = name in spec ? spec[name] : used[name];
    const type = typeOf(typed);
    const value = name in used ? used[name] : spec[name];
    return { name, type, text: formatValue(type, value) };
  });
}

/**
 * The values of the fields, or each field's problem (keyed
 * `parameters.<name>`) when one does not read as its type.
 */
export function readParameters(
  fields: IParameterField[]
):
  | { values: { [name: string]: ParameterValue }; errors: null }
  | { values: null; errors: { [field: string]: string } } {
  const values: { [name: string]: ParameterValue } = {};
  const errors: { [field: string]: string } = {};
  for (const f of fields) {
    try {
      values[f.name] = coerceValue(f.type, f.text);
    } catch (err) {
      errors[`parameters.${f.name}`] = (err as Error).message;
    }
  }
  return Object.keys(errors).length
    ? { values: null, errors }
    : { values, errors: null };
}

/** The dialog body: a typed field per parameter. */
class ParametersForm extends ReactWidget {
  constructor(
    fields: IParameterField[],
    errors: { [field: string]: string },
    trans: TranslationBundle
  ) {
    super();
    this.fields = fields.map(f => ({ ...f }));
    this._errors = errors;
    this._trans = trans;
    this.addClass('jp-smallfry-RunParametersForm');
  }

  /** The fields as the user left them. */
  readonly fields: IParameterField[];

  getValue(): IParameterField[] {
    return this.fields;
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const set = (name: string, text: string) => {
      const field = this.fields.find(f => f.name === name)!;
      field.text = text;
      delete this._errors[`parameters.${name}`];
      this.update();
    };
    if (this.fields.length === 0) {
      return (
        <div className="jp-smallfry-Muted">
          {trans.__('This job has no parameters.')}
        </div>
      );
    }
    return (
      <div>
        {this.fields.map(f => {
          const field = `parameters.${f.name}`;
          const error = this._errors[field];
          return (
            <label
              key={f.name}
              className="jp-smallfry-Field jp-smallfry-Parameter"
              data-field={field}
            >
              <span className="jp-smallfry-FieldLabel">
                <code>{f.name}</code>{' '}
                <span className="jp-smallfry-Type">{f.type}</span>
              </span>
              <ParameterInput
                name={f.name}
                type={f.type}
                text={f.text}
                invalid={!!error}
                trans={trans}
                onChange={text => set(f.name, text)}
              />
              {error && (
                <span
                  className="jp-smallfry-FieldError"
                  data-field={field}
                  role="alert"
                >
                  {error}
                </span>
              )}
            </label>
          );
        })}
      </div>
    );
  }

  private _errors: { [field: string]: string };
  private _trans: TranslationBundle;
}

/**
 * Ask for the parameters of a one-off run, prefilled with `run`'s; asks
 * again, with the problems shown, while a value does not read as its type.
 * Resolves with the values, or `null` when the user cancels.
 */
export async function askParameters(
  trans: TranslationBundle,
  job: IJob,
  run: IRunManifest | null
): Promise<{ [name: string]: ParameterValue } | null> {
  let fields = parameterFields(job, run);
  let errors: { [field: string]: string } = {};
  for (;;) {
    const answer = await showDialog({
      title: trans.__('Run %1 with other parameters', job.spec.id),
      body: new ParametersForm(fields, errors, trans),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Run') })
      ]
    });
    if (!answer.button.accept || !answer.value) {
      return null;
    }
    fields = answer.value;
    const read = readParameters(fields);
    if (read.values) {
      return read.values;
    }
    errors = read.errors;
  }
}

/** The inputs that changed or are gone, first the gone ones. */
export function changedInputs(inputs: IRunInput[]): IRunInput[] {
  return inputs
    .filter(i => i.missing || i.changed)
    .sort((a, b) => Number(b.missing) - Number(a.missing));
}

function ReproduceBody(props: {
  run: IRunManifest;
  inputs: IRunInput[];
  trans: TranslationBundle;
}): JSX.Element {
  const { run, inputs, trans } = props;
  const changed = changedInputs(inputs);
  return (
    <div className="jp-smallfry-ReproduceInputs">
      <p>
        {trans.__(
          'Runs the notebook of run %1 again, as it was then, with its parameters.',
          run.run_id
        )}
      </p>
      {inputs.length === 0 ? (
        <p className="jp-smallfry-Muted">
          {trans.__('The run recorded no S3 objects read.')}
        </p>
      ) : changed.length === 0 ? (
        <p>
          {trans.__('All %1 objects it read are as they were.', inputs.length)}
        </p>
      ) : (
        <>
          <p className="jp-smallfry-Warning">
            {trans.__(
              '%1 of the %2 objects it read changed since: the result may differ.',
              changed.length,
              inputs.length
            )}
          </p>
          <ul>
            {changed.map(i => (
              <li
                key={objectUri(i)}
                className="jp-smallfry-ReproduceInput"
                data-state={i.missing ? 'missing' : 'changed'}
              >
                <code>{objectUri(i)}</code>{' '}
                {i.missing
                  ? trans.__('is gone')
                  : trans.__(
                      'changed (ETag %1 → %2)',
                      i.etag ?? '',
                      i.etag_now ?? ''
                    )}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/**
 * Show what reproducing `run` will read (changed and gone inputs) and ask
 * to go on. Resolves true to reproduce.
 */
export async function confirmReproduce(
  trans: TranslationBundle,
  run: IRunManifest,
  inputs: IRunInput[]
): Promise<boolean> {
  const changed = changedInputs(inputs).length > 0;
  const answer = await showDialog({
    title: trans.__('Reproduce run %1?', run.run_id),
    body: <ReproduceBody run={run} inputs={inputs} trans={trans} />,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      changed
        ? Dialog.warnButton({ label: trans.__('Reproduce anyway') })
        : Dialog.okButton({ label: trans.__('Reproduce') })
    ]
  });
  return answer.button.accept;
}
