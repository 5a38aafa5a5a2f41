/**
 * The *Register as table* dialog: the drafted table (database, name,
 * columns and types, partition keys) for the user to edit before it is
 * created. Stable selectors: `.jp-smallfry-RegisterDialog`, inputs
 * `[name="database"]`, `[name="table"]`, `.jp-smallfry-RegisterColumn`,
 * `.jp-smallfry-RegisterProblems`.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IColumn, ITablePlan } from './register';
import { GLUE_TYPES } from './types';

function ColumnRows(props: {
  columns: IColumn[];
  onChange: (columns: IColumn[]) => void;
  trans: TranslationBundle;
  kind: string;
}): JSX.Element {
  const { columns, onChange, trans, kind } = props;
  const set = (i: number, patch: Partial<IColumn>) =>
    onChange(columns.map((c, j) => (i === j ? { ...c, ...patch } : c)));
  return (
    <table className="jp-smallfry-RegisterColumns">
      <tbody>
        {columns.map((c, i) => (
          <tr key={i} className="jp-smallfry-RegisterColumn" data-kind={kind}>
            <td>
              <input
                className="jp-mod-styled"
                aria-label={trans.__('Column name')}
                value={c.name}
                onChange={e => set(i, { name: e.target.value })}
              />
            </td>
            <td>
              <input
                className="jp-mod-styled"
                aria-label={trans.__('Type of %1', c.name)}
                list="jp-smallfry-glue-types"
                value={c.type}
                onChange={e => set(i, { type: e.target.value })}
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RegisterForm(props: {
  initial: ITablePlan;
  databases: readonly string[];
  problems: readonly string[];
  trans: TranslationBundle;
  onChange: (plan: ITablePlan) => void;
}): JSX.Element {
  const { databases, problems, trans, onChange } = props;
  const [plan, setPlan] = React.useState(props.initial);
  const update = (patch: Partial<ITablePlan>) => {
    const next = { ...plan, ...patch };
    onChange(next);
    setPlan(next);
  };
  return (
    <div>
      {problems.length > 0 && (
        <ul className="jp-smallfry-RegisterProblems" role="alert">
          {problems.map(p => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <p className="jp-smallfry-RegisterSource">
        <code>{plan.location}</code>{' '}
        {trans.__(
          '%1 files, %2 partitions',
          plan.format.toUpperCase(),
          plan.partitions.length
        )}
      </p>
      <label>
        {trans.__('Database')}
        <input
          className="jp-mod-styled"
          name="database"
          list="jp-smallfry-databases"
          value={plan.database}
          onChange={e => update({ database: e.target.value })}
        />
      </label>
      <datalist id="jp-smallfry-databases">
        {databases.map(d => (
          <option key={d} value={d} />
        ))}
      </datalist>
      <datalist id="jp-smallfry-glue-types">
        {GLUE_TYPES.map(t => (
          <option key={t} value={t} />
        ))}
      </datalist>
      <label>
        {trans.__('Table name')}
        <input
          className="jp-mod-styled"
          name="table"
          value={plan.name}
          onChange={e => update({ name: e.target.value })}
        />
      </label>
      <h3>{trans.__('Columns')}</h3>
      <ColumnRows
        kind="column"
        columns={plan.columns}
        onChange={columns => update({ columns })}
        trans={trans}
      />
      {plan.partitionKeys.length > 0 && (
        <>
          <h3>{trans.__('Partition keys (from key=value folders)')}</h3>
          <ColumnRows
            kind="partition"
            columns={plan.partitionKeys}
            onChange={partitionKeys => update({ partitionKeys })}
            trans={trans}
          />
        </>
      )}
      {!databases.includes(plan.database) && (
        <p className="jp-smallfry-RegisterNote">
          {trans.__('The database %1 will be created.', plan.database)}
        </p>
      )}
    </div>
  );
}

/** The dialog's body: edits a copy of the plan. */
export class RegisterBody extends ReactWidget {
  /**
   * @param plan - the drafted plan
   * @param databases - existing database names (offered, not required)
   * @param problems - what was wrong the last time, if anything
   * @param trans - translations
   */
  constructor(
    plan: ITablePlan,
    private readonly _databases: readonly string[],
    private readonly _problems: readonly string[],
    private readonly _trans: TranslationBundle
  ) {
    super();
    this._plan = {
      ...plan,
      columns: plan.columns.map(c => ({ ...c })),
      partitionKeys: plan.partitionKeys.map(c => ({ ...c }))
    };
    this.addClass('jp-smallfry-RegisterDialog');
  }

  /** The plan as edited. */
  getValue(): ITablePlan {
    return this._plan;
  }

  render(): JSX.Element {
    return (
      <RegisterForm
        initial={this._plan}
        databases={this._databases}
        problems={this._problems}
        trans={this._trans}
        onChange={plan => (this._plan = plan)}
      />
    );
  }

  private _plan: ITablePlan;
}

/**
 * Show the dialog; the edited plan, or `null` when cancelled.
 *
 * @param plan - the drafted (or last edited) plan
 * @param databases - existing database names
 * @param problems - the problems of the last attempt
 * @param trans - translations
 */
export async function editPlan(
  plan: ITablePlan,
  databases: readonly string[],
  problems: readonly string[],
  trans: TranslationBundle
): Promise<ITablePlan | null> {
  const result = await showDialog({
    title: trans.__('Register as Table'),
    body: new RegisterBody(plan, databases, problems, trans),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Register') })
    ]
  });
  return result.button.accept ? (result.value as ITablePlan) : null;
}
