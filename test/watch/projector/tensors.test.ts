import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { SHARED_DIR, needs } from '../../helpers/requirements.ts';
import {
  isTensorText,
  parseTensorBinary,
  parseTensorFile,
  parseTensorTsv,
} from '../../../src/watch/sources/projector/tensors.ts';

const PYTORCH = join(SHARED_DIR, 'fixtures', 'pytorch');

/** Distance in float32 units in the last place. */
function ulps(a: number, b: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat32(0, a);
  view.setFloat32(4, b);
  return Math.abs(view.getInt32(0) - view.getInt32(4));
}

test("PyTorch's tensors.tsv parses to the values Number gives, as float32", { skip: needs('shared') }, async () => {
  for (const path of ['basic/05120/default/tensors.tsv', 'header-nosprite/02560/penultimate/tensors.tsv']) {
    const bytes = await readFile(join(PYTORCH, path));
    const tensor = parseTensorTsv(bytes, path);
    assert.equal(tensor.rows, 300);
    assert.equal(tensor.cols, 128);
    assert.equal(tensor.endsWithNewline, true);
    const expected = bytes
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .flatMap((row) => row.split('\t').map(Number));
    assert.equal(tensor.data.length, expected.length);
    let worst = 0;
    let exact = 0;
    for (let i = 0; i < expected.length; i++) {
      worst = Math.max(worst, ulps(tensor.data[i]!, Math.fround(expected[i]!)));
      if (tensor.data[i] === Math.fround(expected[i]!)) exact++;
    }
    assert.ok(worst <= 1, `${path}: a value is ${worst} float32 ulps off`);
    assert.ok(exact >= expected.length * 0.999, `${path}: only ${exact} of ${expected.length} exact`);
  }
});

test('every float syntax Python and NumPy write is read', () => {
  const text = [
    '1e-05\t-1.5E+03\t.5\t5.',
    '+2\t-0.0\t1.000000000000000000000001\t123456789012345678901234',
    '3.4028234663852886e+38\t1.401298464324817e-45\t  7 \t-1.814985275268554688e-02',
    'nan\tinf\t-inf\t-Infinity',
  ].join('\r\n');
  const tensor = parseTensorTsv(Buffer.from(text + '\r\n'), 'x.tsv');
  const expected = [
    1e-5,
    -1500,
    0.5,
    5,
    2,
    -0,
    1,
    Number('123456789012345678901234'),
    3.4028234663852886e38,
    1.401298464324817e-45,
    7,
    Number('-1.814985275268554688e-02'),
    NaN,
    Infinity,
    -Infinity,
    -Infinity,
  ].map(Math.fround);
  assert.deepEqual([...tensor.data], expected);
  assert.equal(tensor.rows, 4);
  assert.equal(tensor.cols, 4);
  assert.equal(tensor.endsWithNewline, true);
});

test('a cut-off last row, a ragged row and a word are reported with row and column', () => {
  assert.equal(parseTensorTsv(Buffer.from('1\t2\n3\t4'), 'x.tsv').endsWithNewline, false);
  assert.throws(() => parseTensorTsv(Buffer.from('1\t2\n3\n'), 'x.tsv'), /x\.tsv row 2 has 1 values but row 1 has 2/);
  assert.throws(() => parseTensorTsv(Buffer.from('1\t2\n3\t4\t5\n'), 'x.tsv'), /row 2 has 3 values/);
  assert.throws(() => parseTensorTsv(Buffer.from('1\t2\n3\tcat\n'), 'x.tsv'), /row 2 column 2 is 'cat', not a number/);
  assert.throws(() => parseTensorTsv(Buffer.from('1\t2\n3\t1e\n'), 'x.tsv'), /row 2 column 2 is '1e'/);
  assert.throws(() => parseTensorTsv(Buffer.from('1\t\n'), 'x.tsv'), /row 1 column 2 is ''/);
  assert.throws(() => parseTensorTsv(Buffer.from('\n\n'), 'x.tsv'), /is empty/);
});

test('binary float32 tensors are told from TSV by not being text and read with tensor_shape', () => {
  const values = Float32Array.from([0.5, -2, 3.25, 1e-3, 0, 7]);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  assert.equal(isTensorText(bytes), false);
  assert.equal(isTensorText(Buffer.from('1\t2\n')), true);
  const tensor = parseTensorFile(bytes, 'x.bytes', [3, 2]);
  assert.equal(tensor.format, 'binary');
  assert.deepEqual([...tensor.data], [...values]);
  assert.equal(tensor.rows, 3);
  assert.equal(parseTensorFile(Buffer.from('1\t2\n3\t4\n'), 'x.tsv', [2, 2]).format, 'tsv');
  assert.throws(() => parseTensorFile(bytes, 'x.bytes'), /not text, and its entry has no tensor_shape/);
  assert.throws(() => parseTensorBinary(bytes, [4, 2], 'x.bytes'), /has 24 bytes, but tensor_shape 4 × 2 needs 32/);
});
