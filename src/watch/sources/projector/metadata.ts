/**
 * A projector metadata TSV and the colours it gives the points.
 *
 * TensorBoard's header rule: one column means no header (every line is a point's label); two or
 * more columns means the first line names them. The column that colours the points is
 * `--color-by COLUMN`, else the first one named like a class or label, else the first. At most
 * 20 distinct values are categories, each a colour of the palette with the value in the legend;
 * more values, or numbers beyond that, are drawn on a continuous colour map with a colour bar.
 */
import { UserError } from '../../../errors.ts';

/** More distinct values than this are not told apart by colour: a continuous map is used instead. */
export const MAX_CATEGORIES = 20;

/** The name of the one column of a metadata file without a header. */
export const SINGLE_COLUMN = 'label';

export interface Metadata {
  columns: string[];
  /** One row per point, one cell per column. */
  rows: string[][];
  /** Whether the first line of the file was a header. */
  hasHeader: boolean;
}

export type PointColoring =
  | {
      kind: 'categorical';
      column: string;
      /** The legend: each category's value, in display order. */
      categories: string[];
      /** Each point's index into `categories`. */
      codes: Uint8Array;
    }
  | {
      kind: 'continuous';
      column: string;
      /** Each point's value on the scale; NaN where the cell is empty. */
      values: Float64Array;
      min: number;
      max: number;
      /** What the two ends of the colour bar say. */
      lowLabel: string;
      highLabel: string;
      /** Numbers (the bar's ends are values), or names coloured by their sorted order. */
      numeric: boolean;
      /** Why the map is continuous, for the log: '300 distinct numbers', '25 distinct values, …'. */
      because: string;
    }
  | { kind: 'none'; reason: string };

/** Parses a metadata TSV (see the module comment for the header rule). */
export function parseMetadata(text: string, path: string): Metadata {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  // The writer ends the last line with a line break; what follows it is not a row.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new UserError(`${path} is empty; expected one line per point`);
  const width = lines[0]!.split('\t').length;
  if (width === 1) return { columns: [SINGLE_COLUMN], rows: lines.map((line) => [line]), hasHeader: false };
  const columns = lines[0]!.split('\t');
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split('\t');
    if (cells.length !== width) {
      throw new UserError(
        `${path} line ${i + 2} has ${cells.length} columns but the header has ${width} (${columns.join(', ')}); ` +
          'give every line one cell per column',
      );
    }
    return cells;
  });
  return { columns, rows, hasHeader: true };
}

const LABEL_LIKE = /^(class|classes|class_?name|label|labels|label_?name|target|category|y)$/i;
const LABEL_PART = /class|label/i;

/** The column `--color-by` names, else one named like a class or label, else the first. */
export function chooseColorColumn(metadata: Metadata, requested: string | undefined, path: string): number {
  if (requested !== undefined) {
    const index = metadata.columns.indexOf(requested);
    if (index >= 0) return index;
    // One column without a header has no name of its own: any --color-by means it.
    if (!metadata.hasHeader) return 0;
    throw new UserError(
      `--color-by ${requested}: ${path} has no such column (it has ${metadata.columns.join(', ')}); pick one of them`,
    );
  }
  const exact = metadata.columns.findIndex((name) => LABEL_LIKE.test(name.trim()));
  if (exact >= 0) return exact;
  const partial = metadata.columns.findIndex((name) => LABEL_PART.test(name));
  return partial >= 0 ? partial : 0;
}

function isNumber(cell: string): boolean {
  const trimmed = cell.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed));
}

/** Numbers in numeric order, empty cells last. */
function numberKey(cell: string): number {
  return isNumber(cell) ? Number(cell.trim()) : Infinity;
}

const collator = new Intl.Collator('en', { numeric: true });

/** How a column colours the points; see the module comment. */
export function colorPoints(metadata: Metadata, column: number): PointColoring {
  const name = metadata.columns[column]!;
  const cells = metadata.rows.map((row) => row[column]!);
  const distinct = [...new Set(cells)];
  const numeric = cells.every((cell) => cell.trim() === '' || isNumber(cell)) && cells.some(isNumber);
  if (distinct.length <= MAX_CATEGORIES) {
    const categories = numeric
      ? distinct.sort((a, b) => numberKey(a) - numberKey(b) || 0)
      : distinct.sort(collator.compare);
    const index = new Map(categories.map((value, i) => [value, i]));
    return { kind: 'categorical', column: name, categories, codes: Uint8Array.from(cells, (c) => index.get(c)!) };
  }
  if (numeric) {
    const values = Float64Array.from(cells, (cell) => (isNumber(cell) ? Number(cell.trim()) : NaN));
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return {
      kind: 'continuous',
      column: name,
      values,
      min,
      max,
      lowLabel: String(min),
      highLabel: String(max),
      numeric: true,
      because: `${distinct.length} distinct numbers`,
    };
  }
  // Many names: colour by their sorted order, so the bar still says which end is which.
  const sorted = distinct.sort(collator.compare);
  const rank = new Map(sorted.map((value, i) => [value, i]));
  return {
    kind: 'continuous',
    column: name,
    values: Float64Array.from(cells, (cell) => rank.get(cell)!),
    min: 0,
    max: sorted.length - 1,
    lowLabel: sorted[0]!,
    highLabel: sorted[sorted.length - 1]!,
    numeric: false,
    because: `${distinct.length} distinct values, more than the ${MAX_CATEGORIES} colours that can be told apart`,
  };
}

/** No metadata file: one colour for every point, and the reason the page shows. */
export function noColoring(reason: string): PointColoring {
  return { kind: 'none', reason };
}
