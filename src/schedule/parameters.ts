/**
 * Read a notebook's `parameters`-tagged cell into typed parameters, and turn
 * what the user types in the form back into values of those types.
 *
 * Only simple `name = literal` assignments are read (str, int, float, bool,
 * None, lists of those); anything else in the cell is reported, not run.
 */
import type { ParameterValue } from './api';

/** The type of a parameter, as Python names it. */
export type ParameterType = 'str' | 'int' | 'float' | 'bool' | 'None' | 'list';

/** One parameter of the notebook. */
export interface INotebookParameter {
  name: string;
  type: ParameterType;
  /** The default value in the notebook. */
  value: ParameterValue;
  /** A type annotation or trailing comment, shown as help. */
  comment?: string;
}

/** What the parameters cell holds. */
export interface IParametersCell {
  parameters: INotebookParameter[];
  /** Statements that are not simple assignments (shown, not scheduled). */
  skipped: string[];
}

/** The cell tagged `parameters` in a notebook's JSON, or `null`. */
export function findParametersCell(notebook: {
  cells?: { cell_type?: string; source?: string | string[]; metadata?: any }[];
}): string | null {
  for (const cell of notebook.cells ?? []) {
    const tags: unknown = cell.metadata?.tags;
    if (
      cell.cell_type === 'code' &&
      Array.isArray(tags) &&
      tags.includes('parameters')
    ) {
      return Array.isArray(cell.source)
        ? cell.source.join('')
        : (cell.source ?? '');
    }
  }
  return null;
}

/** The Python type of a JSON value. */
export function typeOf(value: ParameterValue): ParameterType {
  if (value === null) {
    return 'None';
  }
  if (Array.isArray(value)) {
    return 'list';
  }
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float';
    case 'string':
      return 'str';
    default:
      return 'str';
  }
}

class LiteralError extends Error {}

/** A small reader of Python literals: one expression, nothing after it. */
class LiteralReader {
  constructor(private text: string) {}

  readAll(): { value: ParameterValue; isFloat: boolean } {
    const out = this.read();
    this.space();
    if (this.pos !== this.text.length) {
      throw new LiteralError('unexpected text after the value');
    }
    return out;
  }

  private read(): { value: ParameterValue; isFloat: boolean } {
    this.space();
    const ch = this.text[this.pos];
    if (ch === undefined) {
      throw new LiteralError('missing value');
    }
    if (ch === '[' || ch === '(') {
      return { value: this.list(ch === '[' ? ']' : ')'), isFloat: false };
    }
    if (ch === '"' || ch === "'" || /[rRuU]/.test(ch)) {
      const str = this.string();
      if (str !== null) {
        return { value: str, isFloat: false };
      }
    }
    const word = /^(True|False|None)\b/.exec(this.text.slice(this.pos));
    if (word) {
      this.pos += word[0].length;
      return {
        value: word[0] === 'None' ? null : word[0] === 'True',
        isFloat: false
      };
    }
    const num =
      /^[-+]?(\d[\d_]*\.?[\d_]*([eE][-+]?\d+)?|\.\d[\d_]*([eE][-+]?\d+)?)/.exec(
        this.text.slice(this.pos)
      );
    if (num) {
      this.pos += num[0].length;
      const clean = num[0].replace(/_/g, '');
      const isFloat = /[.eE]/.test(clean);
      const value = Number(clean);
      if (!Number.isFinite(value)) {
        throw new LiteralError('not a number');
      }
      return { value, isFloat };
    }
    throw new LiteralError('not a literal');
  }

  private list(close: string): ParameterValue[] {
    this.pos++;
    const items: ParameterValue[] = [];
    for (;;) {
      this.space();
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.read().value);
      this.space();
      if (this.text[this.pos] === ',') {
        this.pos++;
      } else if (this.text[this.pos] !== close) {
        throw new LiteralError(`expected , or ${close}`);
      }
    }
  }

  private string(): string | null {
    const m = /^([rRuU]?)(['"])/.exec(this.text.slice(this.pos));
    if (!m) {
      return null;
    }
    const raw = m[1].toLowerCase() === 'r';
    const quote = m[2];
    this.pos += m[0].length;
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === quote) {
        return out;
      }
      if (c === '\n') {
        break;
      }
      if (c === '\\' && this.pos < this.text.length) {
        const e = this.text[this.pos++];
        if (raw) {
          out += '\\' + e;
          continue;
        }
        const escapes: { [c: string]: string } = {
          n: '\n',
          t: '\t',
          r: '\r',
          '\\': '\\',
          "'": "'",
          '"': '"',
          '0': '\0'
        };
        out += escapes[e] ?? '\\' + e;
        continue;
      }
      out += c;
    }
    throw new LiteralError('unterminated string');
  }

  private space(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) {
      this.pos++;
    }
  }

  private pos = 0;
}

/**
 * Call `visit` on each character of `code` that is outside a string literal,
 * until it returns true; returns that character's index, or -1.
 */
function scanOutsideStrings(
  code: string,
  visit: (c: string) => boolean
): number {
  let quote: string | null = null;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (quote) {
      if (c === '\\') {
        i++;
      } else if (c === quote) {
        quote = null;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (visit(c)) {
      return i;
    }
  }
  return -1;
}

/** Split off a trailing `# comment` that is not inside a string. */
function splitComment(line: string): [string, string] {
  const at = scanOutsideStrings(line, c => c === '#');
  return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1).trim()];
}

/** Brackets still open at the end of `code` (strings and comments aside). */
function openBrackets(code: string): number {
  let depth = 0;
  scanOutsideStrings(code, c => {
    if (c === '[' || c === '(' || c === '{') {
      depth++;
    } else if (c === ']' || c === ')' || c === '}') {
      depth--;
    }
    return false;
  });
  return depth;
}

/**
 * Parse the source of a parameters cell.
 *
 * A list may span lines; `name: type = value` annotations are accepted; the
 * last assignment of a name wins, as it would in Python.
 */
export function parseParametersCell(source: string): IParametersCell {
  const parameters = new Map<string, INotebookParameter>();
  const skipped: string[] = [];
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let [code, comment] = splitComment(lines[i]);
    if (code.trim() === '') {
      continue;
    }
    while (openBrackets(code) > 0 && i + 1 < lines.length) {
      const [more, moreComment] = splitComment(lines[++i]);
      code += '\n' + more;
      comment = comment || moreComment;
    }
    const m =
      /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([A-Za-z_][\w.[\], ]*?))?\s*=(?!=)([\s\S]*)$/.exec(
        code.trim()
      );
    if (!m) {
      skipped.push(code.trim());
      continue;
    }
    const [, name, annotation, rhs] = m;
    try {
      const { value, isFloat } = new LiteralReader(rhs).readAll();
      let type = typeOf(value);
      if (type === 'int' && isFloat) {
        type = 'float';
      }
      if (annotation === 'float' && type === 'int') {
        type = 'float';
      }
      parameters.delete(name);
      parameters.set(name, {
        name,
        type,
        value,
        ...(comment || annotation ? { comment: comment || annotation } : {})
      });
    } catch {
      skipped.push(code.trim());
    }
  }
  return { parameters: [...parameters.values()], skipped };
}

/**
 * What the form shows for a value of a type: JSON for lists, text otherwise.
 */
export function formatValue(
  type: ParameterType,
  value: ParameterValue
): string {
  if (type === 'list' || (value !== null && typeof value === 'object')) {
    return JSON.stringify(value);
  }
  if (value === null) {
    return '';
  }
  return String(value);
}

/**
 * Turn what the user typed back into a value of `type`.
 *
 * @throws Error with a message for the field when the text is not one.
 */
export function coerceValue(type: ParameterType, text: string): ParameterValue {
  const t = text.trim();
  switch (type) {
    case 'str':
      return text;
    case 'int':
      if (!/^[-+]?\d+$/.test(t)) {
        throw new Error('must be a whole number');
      }
      return parseInt(t, 10);
    case 'float': {
      const v = Number(t);
      if (t === '' || !Number.isFinite(v)) {
        throw new Error('must be a number');
      }
      return v;
    }
    case 'bool':
      if (/^(true|1|yes)$/i.test(t)) {
        return true;
      }
      if (/^(false|0|no)$/i.test(t)) {
        return false;
      }
      throw new Error('must be true or false');
    case 'None':
      return t === '' || t === 'None' ? null : text;
    case 'list': {
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch {
        throw new Error('must be a JSON list, e.g. ["a", "b"]');
      }
      if (!Array.isArray(v)) {
        throw new Error('must be a JSON list, e.g. ["a", "b"]');
      }
      return v as ParameterValue[];
    }
  }
}
