/**
 * Reading the notebook's `parameters` cell into a typed form, and back.
 */
import {
  coerceValue,
  findParametersCell,
  formatValue,
  parseParametersCell
} from '../parameters';

describe('parseParametersCell', () => {
  it('reads simple assignments with their types', () => {
    const cell = [
      '# Parameters of the sales report',
      "region = 'EU'  # sales region",
      'days = 1',
      'min_total = 12.5',
      'ratio: float = 2',
      'dry_run = False',
      'since = None',
      'stores = ["AMS", "RTM"]',
      'big = 1_000',
      'label = "a # not a comment"',
      'matrix = [',
      '    [1, 2],',
      '    [3, 4],  # rows',
      ']',
      'import os',
      'path = os.getcwd()',
      'days = 7'
    ].join('\n');
    const { parameters, skipped } = parseParametersCell(cell);
    const byName = Object.fromEntries(parameters.map(p => [p.name, p]));
    expect(parameters.map(p => p.name)).toEqual([
      'region',
      'min_total',
      'ratio',
      'dry_run',
      'since',
      'stores',
      'big',
      'label',
      'matrix',
      'days'
    ]);
    expect(byName.region).toEqual({
      name: 'region',
      type: 'str',
      value: 'EU',
      comment: 'sales region'
    });
    expect(byName.days).toMatchObject({ type: 'int', value: 7 });
    expect(byName.min_total).toMatchObject({ type: 'float', value: 12.5 });
    expect(byName.ratio).toMatchObject({ type: 'float', value: 2 });
    expect(byName.dry_run).toMatchObject({ type: 'bool', value: false });
    expect(byName.since).toMatchObject({ type: 'None', value: null });
    expect(byName.stores).toMatchObject({
      type: 'list',
      value: ['AMS', 'RTM']
    });
    expect(byName.big).toMatchObject({ type: 'int', value: 1000 });
    expect(byName.label.value).toBe('a # not a comment');
    expect(byName.matrix.value).toEqual([
      [1, 2],
      [3, 4]
    ]);
    expect(skipped).toEqual(['import os', 'path = os.getcwd()']);
  });

  it('keeps a float written as 1.0 a float', () => {
    const { parameters } = parseParametersCell('x = 1.0\ny = -3');
    expect(parameters.map(p => p.type)).toEqual(['float', 'int']);
  });
});

describe('findParametersCell', () => {
  it('finds the tagged code cell', () => {
    const nb = {
      cells: [
        {
          cell_type: 'markdown',
          source: 'x = 1',
          metadata: { tags: ['parameters'] }
        },
        {
          cell_type: 'code',
          source: ['a = 1\n', 'b = 2'],
          metadata: { tags: ['parameters'] }
        }
      ]
    };
    expect(findParametersCell(nb)).toBe('a = 1\nb = 2');
    expect(findParametersCell({ cells: [] })).toBeNull();
  });
});

describe('coerceValue', () => {
  it('round-trips each type', () => {
    expect(coerceValue('int', formatValue('int', 3))).toBe(3);
    expect(coerceValue('float', '2.5')).toBe(2.5);
    expect(coerceValue('bool', 'true')).toBe(true);
    expect(coerceValue('None', '')).toBeNull();
    expect(coerceValue('list', formatValue('list', ['a', 1]))).toEqual([
      'a',
      1
    ]);
    expect(coerceValue('str', '{{ conn.x }}')).toBe('{{ conn.x }}');
  });

  it('says what is wrong', () => {
    expect(() => coerceValue('int', '1.5')).toThrow(/whole number/);
    expect(() => coerceValue('list', '{"a": 1}')).toThrow(/JSON list/);
    expect(() => coerceValue('bool', 'maybe')).toThrow(/true or false/);
  });
});
