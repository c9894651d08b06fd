/**
 * Tables of numbers as TSV (one row per point, tab-separated, no header): the 2-D frames the
 * watcher keeps and the `tsne` command's input and output.
 */
import { UserError } from '../errors.ts';

export interface NumberTable {
  /** Row-major `rows × cols`. */
  data: Float64Array;
  rows: number;
  cols: number;
}

export interface ParseOptions {
  /** Put before every message, e.g. 'tsne: '. */
  prefix?: string;
  /** What the user should do, instead of each message's own advice. */
  advice?: string;
}

/**
 * Parses a TSV of numbers: every row the same number of columns, every value finite; blank lines
 * at the end are ignored. Errors name the file, the row (1-based) and the column.
 */
export function parseNumberTable(text: string, path: string, options: ParseOptions = {}): NumberTable {
  const fail = (what: string, advice: string) =>
    new UserError(`${options.prefix ?? ''}${path} ${what}; ${options.advice ?? advice}`);
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw fail('is empty', 'expected one row of tab-separated numbers per point');
  const cols = lines[0]!.split('\t').length;
  const data = new Float64Array(lines.length * cols);
  for (let r = 0; r < lines.length; r++) {
    const fields = lines[r]!.split('\t');
    if (fields.length !== cols) {
      throw fail(
        `row ${r + 1} has ${fields.length} columns but row 1 has ${cols}`,
        'every row must have the same number of tab-separated values',
      );
    }
    for (let c = 0; c < cols; c++) {
      const value = fields[c]!.trim() === '' ? NaN : Number(fields[c]);
      if (!Number.isFinite(value))
        throw fail(`row ${r + 1} column ${c + 1} is '${fields[c]}', not a finite number`, 'fix or remove that row');
      data[r * cols + c] = value;
    }
  }
  return { data, rows: lines.length, cols };
}

/**
 * Formats row-major `values` as rows of `cols` tab-separated numbers, each line ending in '\n'.
 * `digits` fixes the decimals; without it each number is written exactly (shortest round trip).
 */
export function formatNumberTable(values: ArrayLike<number>, cols: number, digits?: number): string {
  const lines: string[] = [];
  const cells = new Array<string>(cols);
  for (let start = 0; start < values.length; start += cols) {
    for (let c = 0; c < cols; c++)
      cells[c] = digits === undefined ? String(values[start + c]) : values[start + c]!.toFixed(digits);
    lines.push(cells.join('\t'));
  }
  return lines.join('\n') + '\n';
}
