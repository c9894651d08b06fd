import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { needs } from '../../helpers/requirements.ts';
import { chooseColorColumn, colorPoints, parseMetadata } from '../../../src/watch/sources/projector/metadata.ts';
import { PYTORCH_RUNS } from './helpers.ts';

const CIFAR = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

test(
  'one column without a header: every line a label; the legend is the ten class names',
  { skip: needs('shared') },
  async () => {
    const path = join(PYTORCH_RUNS, 'basic/00000/default/metadata.tsv');
    const metadata = parseMetadata(await readFile(path, 'utf8'), path);
    assert.equal(metadata.hasHeader, false);
    assert.equal(metadata.rows.length, 300);
    const coloring = colorPoints(metadata, chooseColorColumn(metadata, undefined, path));
    assert.equal(coloring.kind, 'categorical');
    if (coloring.kind !== 'categorical') return;
    assert.deepEqual(coloring.categories, CIFAR);
    assert.equal(coloring.categories[coloring.codes[0]!], 'frog');
    assert.equal(coloring.categories[coloring.codes[1]!], 'automobile');
  },
);

test(
  'a header and two columns: "label" is chosen over test_index; --color-by picks another',
  { skip: needs('shared') },
  async () => {
    const path = join(PYTORCH_RUNS, 'header-nosprite/00000/penultimate/metadata.tsv');
    const metadata = parseMetadata(await readFile(path, 'utf8'), path);
    assert.deepEqual(metadata.columns, ['label', 'test_index']);
    assert.equal(metadata.rows.length, 300);
    assert.equal(chooseColorColumn(metadata, undefined, path), 0);
    const byLabel = colorPoints(metadata, 0);
    assert.equal(byLabel.kind === 'categorical' && byLabel.categories.join(), CIFAR.join());
    const byIndex = colorPoints(metadata, chooseColorColumn(metadata, 'test_index', path));
    assert.equal(byIndex.kind, 'continuous');
    if (byIndex.kind !== 'continuous') return;
    assert.equal(byIndex.column, 'test_index');
    assert.equal(byIndex.values[0], 27);
    assert.throws(
      () => chooseColorColumn(metadata, 'species', path),
      /--color-by species: .* has no such column \(it has label, test_index\)/,
    );
  },
);

test('three columns: a column named like a class wins, else the first', () => {
  const three = parseMetadata('id\tspecies_class\tsize\n1\tcat\t2.5\n2\tdog\t3\n', 'm.tsv');
  assert.equal(chooseColorColumn(three, undefined, 'm.tsv'), 1);
  const plain = parseMetadata('id\tname\n1\tcat\n', 'm.tsv');
  assert.equal(chooseColorColumn(plain, undefined, 'm.tsv'), 0);
  assert.throws(() => parseMetadata('a\tb\n1\t2\t3\n', 'm.tsv'), /m\.tsv line 2 has 3 columns but the header has 2/);
});

test('25 classes get a continuous map over their sorted names; 20 stay categories', () => {
  const names = (n: number) => Array.from({ length: 2 * n }, (_, i) => `class ${i % n}`);
  const many = colorPoints(parseMetadata(names(25).join('\n') + '\n', 'm.tsv'), 0);
  assert.equal(many.kind, 'continuous');
  if (many.kind === 'continuous') {
    assert.equal(many.lowLabel, 'class 0');
    assert.equal(many.highLabel, 'class 24');
    assert.equal(many.values[24], 24);
    assert.match(many.because, /25 distinct values/);
  }
  const twenty = colorPoints(parseMetadata(names(20).join('\n') + '\n', 'm.tsv'), 0);
  assert.equal(twenty.kind, 'categorical');
  if (twenty.kind === 'categorical') assert.equal(twenty.categories[2], 'class 2');
});

test(
  'continuous numeric labels: min, max, and NaN for an empty cell; few numbers stay categories in numeric ' + 'order',
  () => {
    const values = Array.from({ length: 50 }, (_, i) => String(i / 10));
    values[3] = '';
    const coloring = colorPoints(
      parseMetadata(`age\tid\n${values.map((v, i) => `${v}\t${i}`).join('\n')}\n`, 'm.tsv'),
      0,
    );
    assert.equal(coloring.kind, 'continuous');
    if (coloring.kind !== 'continuous') return;
    assert.equal(coloring.min, 0);
    assert.equal(coloring.max, 4.9);
    assert.ok(Number.isNaN(coloring.values[3]!));
    const digits = colorPoints(parseMetadata('10\n2\n1\n2\n', 'm.tsv'), 0);
    assert.equal(digits.kind === 'categorical' && digits.categories.join(), '1,2,10');
  },
);
