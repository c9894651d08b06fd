import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../../src/errors.ts';
import { formatNumberTable, parseNumberTable } from '../../src/util/tsv.ts';
import { Random, createGaussian, createRandom } from '../../src/util/random.ts';

test('a table of numbers survives formatting and parsing exactly', () => {
  const values = Float64Array.from([0.1, -2, 1 / 3, 1e-12, 12345.678, 2 ** 60]);
  const text = formatNumberTable(values, 2);
  assert.equal(text.split('\n').length, 4, 'three rows and a final newline');
  const table = parseNumberTable(text, 'frame.tsv');
  assert.equal(table.rows, 3);
  assert.equal(table.cols, 2);
  assert.deepEqual([...table.data], [...values]);
  assert.equal(formatNumberTable([1, 2.5], 2, 3), '1.000\t2.500\n');
});

test('parse errors name the file, row and column, with the given prefix and advice', () => {
  const fails = (text: string, pattern: RegExp, options = {}) =>
    assert.throws(
      () => parseNumberTable(text, 'x.tsv', options),
      (e: unknown) => isUserError(e) && pattern.test(e.message),
    );
  fails('1\t2\n3\n', /^x\.tsv row 2 has 1 columns but row 1 has 2; every row/);
  fails('1\t2\n3\tNaN\n', /^x\.tsv row 2 column 2 is 'NaN', not a finite number; fix or remove that row$/);
  fails('1\t\n', /row 1 column 2 is ''/);
  fails('\n\n', /^tsne: x\.tsv is empty/, { prefix: 'tsne: ' });
  fails('a\n', /; start over$/, { advice: 'start over' });
  assert.equal(parseNumberTable('1\t2\r\n3\t4\r\n\r\n', 'crlf.tsv').rows, 2);
});

test('createRandom and createGaussian are the Random streams as functions', () => {
  const uniform = createRandom(7);
  const gaussian = createGaussian(7);
  const a = new Random(7);
  const b = new Random(7);
  for (let i = 0; i < 5; i++) {
    assert.equal(uniform(), a.next());
    assert.equal(gaussian(), b.normal());
  }
  assert.notEqual(createRandom(8)(), createRandom(7)());
});
