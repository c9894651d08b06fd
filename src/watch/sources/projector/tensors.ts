/**
 * One step's points as a user's writer left them: an N × D tensor file of TensorBoard's
 * projector. Two kinds, told apart the way TensorBoard does (it tries UTF-8 text first):
 *
 * - TSV, one row per point, tab-separated, no header; floats in any syntax Python's `float()`
 *   and NumPy write: `0.018149852752685547`, `1e-05`, `-1.5E+03`, `.5`, `nan`, `inf`, `-Infinity`.
 *   Non-finite values are read (a diverged run is the user's to see) and refused by the caller.
 * - Binary: raw little-endian float32, row-major, the shape from the entry's `tensor_shape`.
 *
 * The TSV parser reads the bytes in one pass, each number as it goes, not split strings: a
 * 10,000 × 128 file as PyTorch writes it (about 25 MB of 17-digit floats) parses in about half
 * the time `split` and `Number` take (`npm run bench:projector`). Values are rounded to float32,
 * as the projector holds them; the parse keeps up to 17 significant digits, so a float32 written
 * by PyTorch reads back exactly except, rarely, for one unit in the last place.
 */
import { isUtf8 } from 'node:buffer';
import { UserError } from '../../../errors.ts';

export interface StepTensor {
  /** Row-major `rows × cols`. */
  data: Float32Array;
  rows: number;
  cols: number;
  /** Whether the last row ended with a line break, as every writer's last row does once written whole. */
  endsWithNewline: boolean;
  format: 'tsv' | 'binary';
}

const TAB = 9;
const NEWLINE = 10;
const CR = 13;
const SPACE = 32;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;

/** Exact powers of ten up to 1e22; larger ones are products and may carry one rounding. */
const POWERS = Float64Array.from({ length: 309 }, (_, k) => Number(`1e${k}`));
/** Digits beyond this many are dropped (below float64's precision; exponent adjusted). */
const MAX_DIGITS = 17;

function scale(mantissa: number, exponent: number): number {
  if (mantissa === 0) return 0;
  if (exponent >= 0) return exponent > 308 ? Infinity : mantissa * POWERS[exponent]!;
  if (exponent >= -308) return mantissa / POWERS[-exponent]!;
  return exponent < -343 ? 0 : mantissa / POWERS[308]! / POWERS[-exponent - 308]!;
}

function lower(byte: number): number {
  return byte | 0x20;
}

/** Whether bytes[at, end) spell `word` (lower case), ignoring case. */
function spells(bytes: Uint8Array, at: number, end: number, word: string): boolean {
  if (end - at !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (lower(bytes[at + k]!) !== word.charCodeAt(k)) return false;
  return true;
}

/** Where the last `parseNumber` stopped (after trailing spaces), or -1 when it found no number. */
let parsedTo = 0;

/**
 * The float starting at bytes[at] (leading spaces allowed), read up to the first byte that cannot
 * continue it; `parsedTo` says where that is. One pass over the bytes: the caller checks that a
 * tab or a line break follows.
 */
function parseNumber(bytes: Uint8Array, at: number, end: number): number {
  while (at < end && bytes[at] === SPACE) at++;
  let negative = false;
  if (at < end && (bytes[at] === MINUS || bytes[at] === PLUS)) negative = bytes[at++] === MINUS;
  let mantissa = 0;
  let exponent = 0;
  let digits = 0;
  let seen = 0;
  let d: number;
  while (at < end && (d = bytes[at]! - ZERO) >= 0 && d <= 9) {
    if (digits < MAX_DIGITS) {
      mantissa = mantissa * 10 + d;
      if (mantissa !== 0) digits++;
    } else {
      exponent++;
    }
    seen++;
    at++;
  }
  if (at < end && bytes[at] === DOT) {
    at++;
    while (at < end && (d = bytes[at]! - ZERO) >= 0 && d <= 9) {
      if (digits < MAX_DIGITS) {
        mantissa = mantissa * 10 + d;
        exponent--;
        if (mantissa !== 0) digits++;
      }
      seen++;
      at++;
    }
  }
  let value: number;
  if (seen === 0) {
    // nan, inf, infinity in any case: the words Python and NumPy write.
    let wordEnd = at;
    while (wordEnd < end && (bytes[wordEnd]! | 0x20) >= 0x61 && (bytes[wordEnd]! | 0x20) <= 0x7a) wordEnd++;
    if (spells(bytes, at, wordEnd, 'nan')) value = NaN;
    else if (spells(bytes, at, wordEnd, 'inf') || spells(bytes, at, wordEnd, 'infinity')) value = Infinity;
    else {
      parsedTo = -1;
      return NaN;
    }
    at = wordEnd;
  } else {
    if (at < end && lower(bytes[at]!) === 0x65 /* e */) {
      at++;
      let exponentNegative = false;
      if (at < end && (bytes[at] === MINUS || bytes[at] === PLUS)) exponentNegative = bytes[at++] === MINUS;
      let written = 0;
      let power = 0;
      while (at < end && (d = bytes[at]! - ZERO) >= 0 && d <= 9) {
        if (power < 100_000) power = power * 10 + d;
        written++;
        at++;
      }
      if (written === 0) {
        parsedTo = -1;
        return NaN;
      }
      exponent += exponentNegative ? -power : power;
    }
    value = scale(mantissa, exponent);
  }
  while (at < end && (bytes[at] === SPACE || bytes[at] === CR)) at++;
  parsedTo = at;
  return negative ? -value : value;
}

function fieldText(bytes: Uint8Array, start: number, end: number): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(end - start, 40)).toString('utf8');
  return end - start > 40 ? `${text}…` : text;
}

/** The end of the field starting at `at`: the next tab or line break. */
function fieldEnd(bytes: Uint8Array, at: number, end: number): number {
  while (at < end && bytes[at] !== TAB && bytes[at] !== NEWLINE) at++;
  return at;
}

/**
 * Parses a tensor TSV. Every row must have the same number of values; blank lines at the end are
 * ignored. Errors name the file, the row (1-based) and the column.
 */
export function parseTensorTsv(bytes: Uint8Array, path: string): StepTensor {
  let length = bytes.length;
  while (length > 0 && (bytes[length - 1] === NEWLINE || bytes[length - 1] === CR || bytes[length - 1] === SPACE))
    length--;
  const endsWithNewline = length < bytes.length && bytes.subarray(length).includes(NEWLINE);
  if (length === 0) throw new UserError(`${path} is empty; expected one row of tab-separated numbers per point`);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, length);
  const firstLineEnd = buffer.indexOf(NEWLINE) < 0 ? length : buffer.indexOf(NEWLINE);
  let cols = 1;
  for (let at = 0; at < firstLineEnd; at++) if (bytes[at] === TAB) cols++;
  let rowsBound = 1;
  for (let at = buffer.indexOf(NEWLINE); at >= 0; at = buffer.indexOf(NEWLINE, at + 1)) rowsBound++;
  const data = new Float32Array(rowsBound * cols);
  let rows = 0;
  let at = 0;
  while (at < length) {
    for (let col = 0; ; col++) {
      const value = parseNumber(bytes, at, length);
      const next = parsedTo;
      const delimiter = next >= length ? NEWLINE : bytes[next];
      if (next < 0 || (delimiter !== TAB && delimiter !== NEWLINE)) {
        throw new UserError(
          `${path} row ${rows + 1} column ${col + 1} is '${fieldText(bytes, at, fieldEnd(bytes, at, length))}', ` +
            'not a number; the file should hold one row of tab-separated numbers per point',
        );
      }
      const last = delimiter === NEWLINE;
      if (col >= cols || (last && col + 1 !== cols)) {
        let found = col + 1;
        for (let k = next; k < length && bytes[k] !== NEWLINE; k++) if (bytes[k] === TAB) found++;
        throw new UserError(
          `${path} row ${rows + 1} has ${found} values but row 1 has ${cols}; every row must have the same number ` +
            'of tab-separated values',
        );
      }
      data[rows * cols + col] = value;
      at = next + 1;
      if (last) break;
    }
    rows++;
  }
  return {
    data: rows * cols === data.length ? data : data.slice(0, rows * cols),
    rows,
    cols,
    endsWithNewline,
    format: 'tsv',
  };
}

/** Parses a binary tensor file: raw little-endian float32 of `shape` (rows, columns). */
export function parseTensorBinary(bytes: Uint8Array, shape: readonly number[], path: string): StepTensor {
  if (shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new UserError(
      `${path} is binary, so its entry needs tensor_shape with two positive sizes (points, dimensions), got ` +
        `[${shape.join(', ')}]; add them to projector_config.pbtxt`,
    );
  }
  const [rows, cols] = shape as [number, number];
  if (bytes.length !== rows * cols * 4) {
    throw new UserError(
      `${path} has ${bytes.length} bytes, but tensor_shape ${rows} × ${cols} needs ${rows * cols * 4} (float32); ` +
        'fix tensor_shape or the file',
    );
  }
  const data = new Float32Array(rows * cols);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(4 * i, true);
  return { data, rows, cols, endsWithNewline: true, format: 'binary' };
}

/** TensorBoard's rule: a tensor file that is UTF-8 text is TSV, anything else binary float32. */
export function isTensorText(bytes: Uint8Array): boolean {
  return isUtf8(bytes) && !bytes.includes(0);
}

/** A tensor file's points, TSV or binary (see the module comment). */
export function parseTensorFile(bytes: Uint8Array, path: string, shape?: readonly number[]): StepTensor {
  if (isTensorText(bytes)) return parseTensorTsv(bytes, path);
  if (shape === undefined || shape.length === 0) {
    throw new UserError(
      `${path} is not text, and its entry has no tensor_shape to read it as binary float32; add tensor_shape ` +
        '(points, dimensions) to projector_config.pbtxt or write the tensor as TSV',
    );
  }
  return parseTensorBinary(bytes, shape, path);
}
