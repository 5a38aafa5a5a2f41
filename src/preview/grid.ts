/**
 * Data models of the preview's two grids (`@lumino/datagrid`, as
 * JupyterLab's CSV viewer): the first rows, and the schema with the
 * statistics a Parquet footer holds. No DOM.
 */
import { DataModel } from '@lumino/datagrid';

import type { IPreview, PreviewCell } from './api';

/** The first rows: a header of column names, row numbers on the left. */
export class RowsModel extends DataModel {
  constructor(private readonly _preview: IPreview) {
    super();
  }

  rowCount(region: DataModel.RowRegion): number {
    return region === 'body' ? this._preview.rows.length : 1;
  }

  columnCount(region: DataModel.ColumnRegion): number {
    return region === 'body' ? this._preview.schema.length : 1;
  }

  data(region: DataModel.CellRegion, row: number, column: number): PreviewCell {
    switch (region) {
      case 'body':
        return this._preview.rows[row]?.[column] ?? null;
      case 'column-header':
        return this._preview.schema[column]?.name ?? '';
      case 'row-header':
        return row + 1;
      default:
        return '';
    }
  }
}

/** The schema headings, in column order. */
export const SCHEMA_COLUMNS = [
  'type',
  'nullable',
  'min',
  'max',
  'nulls'
] as const;

/**
 * The schema: one row per column with its Arrow type, nullability and the
 * footer's min, max and null count (empty for formats without them).
 *
 * @param headings - the translated headings of {@link SCHEMA_COLUMNS}
 */
export class SchemaModel extends DataModel {
  constructor(
    private readonly _preview: IPreview,
    private readonly _headings: readonly string[]
  ) {
    super();
  }

  rowCount(region: DataModel.RowRegion): number {
    return region === 'body' ? this._preview.schema.length : 1;
  }

  columnCount(region: DataModel.ColumnRegion): number {
    return region === 'body' ? SCHEMA_COLUMNS.length : 1;
  }

  data(region: DataModel.CellRegion, row: number, column: number): PreviewCell {
    const field = this._preview.schema[row];
    switch (region) {
      case 'column-header':
        return this._headings[column] ?? SCHEMA_COLUMNS[column];
      case 'row-header':
        return field?.name ?? '';
      case 'corner-header':
        return '';
      default:
        break;
    }
    if (!field) {
      return null;
    }
    const stats = this._preview.statistics[field.name];
    switch (SCHEMA_COLUMNS[column]) {
      case 'type':
        return field.type;
      case 'nullable':
        return field.nullable;
      case 'min':
        return stats ? stats.min : null;
      case 'max':
        return stats ? stats.max : null;
      default:
        return stats ? stats.null_count : null;
    }
  }
}
