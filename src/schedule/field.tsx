/**
 * One row of the schedule form: a label, the input, a line of help and the
 * problem with that field, the same way for every field.
 *
 * Stable selectors for UI tests: a row is `.jp-smallfry-Field[data-field]`
 * (`data-field` = the spec path it edits); its input has `name` = that path;
 * its problem is `.jp-smallfry-FieldError[data-field]`.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IScheduleForm, ScheduleModel } from './model';
import type { ParameterType } from './parameters';

/**
 * The problem with spec path `field` (`""`: with the job as a whole), if any.
 */
export function FieldError(props: {
  model: ScheduleModel;
  field: string;
}): JSX.Element | null {
  const message = props.model.errors[props.field];
  return message ? (
    <div
      className="jp-smallfry-FieldError"
      data-field={props.field}
      role="alert"
    >
      {message}
    </div>
  ) : null;
}

/**
 * A labelled row around one input (the children), with its help and its
 * problem. A `label` element, so a click on the label reaches the input,
 * unless `tag` is `div` (a row holding more than one control).
 */
export function FieldRow(props: {
  model: ScheduleModel;
  label: React.ReactNode;
  /** The spec path the row edits; without it the row shows no problem. */
  field?: string;
  help?: string;
  tag?: 'label' | 'div';
  className?: string;
  children: React.ReactNode;
}): JSX.Element {
  const Tag = props.tag ?? 'label';
  return (
    <Tag
      className={`jp-smallfry-Field${props.className ? ` ${props.className}` : ''}`}
      data-field={props.field}
    >
      <span className="jp-smallfry-FieldLabel">{props.label}</span>
      {props.children}
      {props.help && (
        <span className="jp-smallfry-FieldHelp">{props.help}</span>
      )}
      {props.field !== undefined && (
        <FieldError model={props.model} field={props.field} />
      )}
    </Tag>
  );
}

/** A text (or number) field of the form. */
export interface ITextField {
  /** The spec path it edits: the input's `name`, where its problem shows. */
  field: string;
  /** The form value it holds. */
  name: keyof IScheduleForm;
  label: string;
  placeholder?: string;
  help?: string;
  type?: 'text' | 'number';
  /** The id of a `datalist` of suggestions. */
  list?: string;
}

/**
 * A row with a text input bound to the form value `name`.
 */
export function TextField(
  props: ITextField & { model: ScheduleModel }
): JSX.Element {
  const { model, field, name } = props;
  return (
    <FieldRow model={model} label={props.label} field={field} help={props.help}>
      <input
        className="jp-mod-styled jp-smallfry-Input"
        name={field}
        type={props.type ?? 'text'}
        list={props.list}
        value={String(model.form[name])}
        placeholder={props.placeholder}
        aria-invalid={!!model.errors[field]}
        onChange={e => model.set(name, e.target.value as any)}
      />
    </FieldRow>
  );
}

/**
 * Text fields one after the other, in the order given.
 */
export function TextFields(props: {
  model: ScheduleModel;
  fields: ITextField[];
}): JSX.Element {
  return (
    <>
      {props.fields.map(f => (
        <TextField key={f.field} model={props.model} {...f} />
      ))}
    </>
  );
}

/**
 * The input of one typed notebook parameter: True/False for a bool, a number
 * field for an int or a float, text otherwise (a list as Python or JSON).
 * Used by the schedule form and by any dialog asking for a run's parameters;
 * `coerceValue` (`./parameters`) reads the text back as its type.
 */
export function ParameterInput(props: {
  /** The parameter's name. */
  name: string;
  type: ParameterType;
  /** The text in the field (as `formatValue` writes a value). */
  text: string;
  /** The input's `name`; default `parameters.<name>`. */
  field?: string;
  /** Shown while empty, e.g. the notebook's default. */
  placeholder?: string;
  /** Whether the field has a problem. */
  invalid?: boolean;
  trans: TranslationBundle;
  onChange: (text: string) => void;
}): JSX.Element {
  const { type, trans } = props;
  const field = props.field ?? `parameters.${props.name}`;
  if (type === 'bool') {
    return (
      <select
        className="jp-mod-styled"
        name={field}
        value={/^(true|1|yes)$/i.test(props.text.trim()) ? 'true' : 'false'}
        onChange={e => props.onChange(e.target.value)}
      >
        <option value="true">True</option>
        <option value="false">False</option>
      </select>
    );
  }
  return (
    <input
      className="jp-mod-styled jp-smallfry-Input"
      name={field}
      type={type === 'int' || type === 'float' ? 'number' : 'text'}
      step={type === 'float' ? 'any' : undefined}
      value={props.text}
      placeholder={type === 'None' ? trans.__('None') : props.placeholder}
      aria-invalid={!!props.invalid}
      onChange={e => props.onChange(e.target.value)}
    />
  );
}
