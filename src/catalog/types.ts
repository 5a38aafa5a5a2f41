/**
 * Column types of a catalog table: the Arrow types the preview reader infers
 * (as pyarrow prints them) turned into the Hive types Glue, Athena and
 * `sf.table` read. No DOM, no SDK: tested in Node.
 */

/** Hive types a user may pick in the Register as table dialog. */
export const GLUE_TYPES = [
  'string',
  'bigint',
  'int',
  'smallint',
  'tinyint',
  'double',
  'float',
  'boolean',
  'date',
  'timestamp',
  'binary',
  'decimal(38,9)'
];

const SIMPLE: Record<string, string> = {
  int8: 'tinyint',
  int16: 'smallint',
  int32: 'int',
  int64: 'bigint',
  // Unsigned integers take the next wider signed type (Hive has no unsigned).
  uint8: 'smallint',
  uint16: 'int',
  uint32: 'bigint',
  uint64: 'bigint',
  halffloat: 'float',
  float: 'float',
  double: 'double',
  bool: 'boolean',
  string: 'string',
  large_string: 'string',
  string_view: 'string',
  binary: 'binary',
  large_binary: 'binary',
  binary_view: 'binary',
  fixed_size_binary: 'binary',
  date32: 'date',
  date64: 'date',
  timestamp: 'timestamp',
  // Hive has no time of day nor duration type: kept readable.
  time32: 'string',
  time64: 'string',
  duration: 'bigint',
  null: 'string'
};

/**
 * The Hive type for an Arrow type as pyarrow prints it, e.g.
 * `list<element: struct<a: int64, b: string>>` →
 * `array<struct<a:bigint,b:string>>`. Unknown types become `string`.
 *
 * @param arrow - `str(pyarrow.DataType)`
 */
export function glueType(arrow: string): string {
  try {
    const parser = new Parser(arrow);
    const type = parser.type();
    return parser.done() ? type : 'string';
  } catch {
    return 'string';
  }
}

/** A recursive-descent reader of pyarrow's type strings. */
class Parser {
  constructor(private readonly _text: string) {}

  done(): boolean {
    this._space();
    return this._at >= this._text.length;
  }

  type(): string {
    this._space();
    const name = this._word();
    if (name === 'decimal128' || name === 'decimal256' || name === 'decimal') {
      const [precision, scale] = this._bracketed('(', ')').split(',');
      return `decimal(${Math.min(38, Number(precision))},${Number(scale)})`;
    }
    if (this._peek('[')) {
      this._bracketed('[', ']'); // units, zones, widths: Hive's type has none
    }
    if (!this._peek('<')) {
      const simple = SIMPLE[name];
      if (simple === undefined) {
        throw new Error(`unknown type ${name}`);
      }
      return simple;
    }
    this._expect('<');
    let result: string;
    if (name === 'dictionary') {
      // dictionary<values=string, indices=int32, ordered=0>: the values matter
      const parts = this._items(() => {
        const key = this._word();
        this._expect('=');
        return key === 'values' ? this.type() : (this._word(), '');
      });
      result = parts.find(p => p !== '') ?? 'string';
    } else if (name === 'struct') {
      const fields = this._items(() => `${this._field()}:${this.type()}`);
      result = `struct<${fields.join(',')}>`;
    } else if (name === 'map') {
      const [key, value] = this._items(() => this._maybeNamed());
      result = `map<${key},${value}>`;
    } else if (name.endsWith('list')) {
      const [element] = this._items(() => this._maybeNamed());
      result = `array<${element}>`;
    } else {
      throw new Error(`unknown type ${name}`);
    }
    this._expect('>');
    if (this._peek('[')) {
      this._bracketed('[', ']'); // fixed_size_list<…>[3]
    }
    return result;
  }

  /** `name: type` or a bare `type` (map entries, lists print either). */
  private _maybeNamed(): string {
    const start = this._at;
    const word = this._word();
    this._space();
    if (this._peek(':')) {
      this._expect(':');
      return this.type();
    }
    this._at = start;
    void word;
    return this.type();
  }

  private _field(): string {
    this._space();
    const colon = this._text.indexOf(':', this._at);
    if (colon < 0) {
      throw new Error('field without a type');
    }
    const name = this._text.slice(this._at, colon).trim();
    this._at = colon + 1;
    // Hive reads struct field names as plain identifiers.
    return name.replace(/[^A-Za-z0-9_]/g, '_').toLowerCase();
  }

  private _items<T>(item: () => T): T[] {
    const found: T[] = [item()];
    this._notNull();
    while (this._peek(',')) {
      this._expect(',');
      found.push(item());
      this._notNull();
    }
    return found;
  }

  private _notNull(): void {
    this._space();
    if (this._text.startsWith('not null', this._at)) {
      this._at += 'not null'.length;
    }
  }

  private _bracketed(open: string, close: string): string {
    this._expect(open);
    const end = this._text.indexOf(close, this._at);
    if (end < 0) {
      throw new Error(`no ${close}`);
    }
    const inside = this._text.slice(this._at, end);
    this._at = end + 1;
    return inside;
  }

  private _word(): string {
    this._space();
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this._text.slice(this._at));
    if (!match) {
      throw new Error('a name was expected');
    }
    this._at += match[0].length;
    return match[0];
  }

  private _peek(char: string): boolean {
    this._space();
    return this._text[this._at] === char;
  }

  private _expect(char: string): void {
    if (!this._peek(char)) {
      throw new Error(`${char} was expected`);
    }
    this._at += 1;
  }

  private _space(): void {
    while (this._text[this._at] === ' ') {
      this._at += 1;
    }
  }

  private _at = 0;
}

/**
 * The Hive type of a partition key from its folder values: `int` or
 * `bigint` when every value is a whole number, else `string`.
 *
 * @param values - the values seen in `key=value/` folders
 */
export function partitionKeyType(values: readonly string[]): string {
  if (values.length === 0 || !values.every(v => /^-?\d{1,18}$/.test(v))) {
    return 'string';
  }
  // Leading zeros (month=01) would be lost as numbers: keep them as text.
  if (values.some(v => /^-?0\d/.test(v))) {
    return 'string';
  }
  const fits = values.every(v => Math.abs(Number(v)) <= 2147483647);
  return fits ? 'int' : 'bigint';
}
