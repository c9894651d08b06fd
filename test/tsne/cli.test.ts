import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/tsne.ts';
import { clusteredData } from '../../src/tsne/index.ts';
import { isUserError } from '../../src/errors.ts';
import { collectOutput } from '../../src/cli/output.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsne-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const n = 150;
const d = 8;
const { X, labels } = clusteredData(n, d, 3, 4, 6);
const input = join(dir, 'emb.tsv');
writeFileSync(
  input,
  Array.from({ length: n }, (_, i) => Array.from(X.subarray(i * d, (i + 1) * d)).join('\t')).join('\n') + '\n',
);
const labelFile = join(dir, 'labels.tsv');
writeFileSync(labelFile, Array.from(labels).join('\n') + '\n');

async function capture(argv: string[]): Promise<{ code: number | void; output: string }> {
  const output = collectOutput();
  return { code: await run(argv, output), output: output.lines.join('\n') };
}

function readFrame(path: string): number[][] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((row) => row.split('\t').map(Number));
}

test('cold, then warm-started and aligned to the previous frame; --json reports the measures', async () => {
  const first = join(dir, 'first.tsv');
  const cold = await capture(['--input', input, '--labels', labelFile, '--out', first, '--json']);
  assert.equal(cold.code, 0);
  const coldReport = JSON.parse(cold.output) as { warm: boolean; neighborhoodHit: number };
  assert.equal(coldReport.warm, false);
  assert.ok(coldReport.neighborhoodHit > 0.9, `hit ${coldReport.neighborhoodHit}`);
  const rows = readFrame(first);
  assert.equal(rows.length, n);
  assert.ok(rows.every((row) => row.length === 2 && row.every(Number.isFinite)));
  const meanX = rows.reduce((s, r) => s + r[0], 0) / n;
  assert.ok(Math.abs(meanX) < 1e-5, 'normalised');

  const second = join(dir, 'second.tsv');
  const warm = await capture(['--input', input, '--init', first, '--out', second, '--seed', '1', '--json']);
  const warmReport = JSON.parse(warm.output) as { warm: boolean; displacement: number };
  assert.equal(warmReport.warm, true);
  assert.ok(warmReport.displacement >= 0 && warmReport.displacement < 0.5, `displacement ${warmReport.displacement}`);
  const png = join(dir, 'frame.png');
  const human = await capture([
    '--input',
    input,
    '--init',
    first,
    '--out',
    second,
    '--labels',
    labelFile,
    '--png',
    png,
  ]);
  assert.match(human.output, /KL [\d.]+, 10-NN preservation [\d.]+, neighbourhood hit [\d.]+, displacement [\d.]+/);
  assert.deepEqual(
    [...readFileSync(png).subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    'a PNG file',
  );
});

async function assertUserError(argv: string[], pattern: RegExp): Promise<void> {
  await assert.rejects(
    capture(argv),
    (error: unknown) =>
      isUserError(error) && pattern.test((error as Error).message) && !(error as Error).message.includes('\n'),
  );
}

test('bad files get one clear line: ragged rows, NaN, wrong sizes, missing files', async () => {
  const ragged = join(dir, 'ragged.tsv');
  writeFileSync(ragged, '1\t2\t3\n4\t5\n');
  await assertUserError(
    ['--input', ragged, '--out', join(dir, 'x.tsv')],
    /ragged\.tsv row 2 has 2 values but row 1 has 3/,
  );
  const nan = join(dir, 'nan.tsv');
  writeFileSync(nan, '1\t2\n3\tNaN\n');
  await assertUserError(['--input', nan, '--out', join(dir, 'x.tsv')], /nan\.tsv row 2 column 2 is 'NaN'/);
  const shortInit = join(dir, 'short.tsv');
  writeFileSync(shortInit, '0\t0\n1\t1\n');
  await assertUserError(
    ['--input', input, '--init', shortInit, '--out', join(dir, 'x.tsv')],
    /short\.tsv has 2 rows but .*emb\.tsv has 150/,
  );
  const shortLabels = join(dir, 'few-labels.tsv');
  writeFileSync(shortLabels, '0\n1\n');
  await assertUserError(
    ['--input', input, '--labels', shortLabels, '--out', join(dir, 'x.tsv')],
    /2 labels but the input has 150 rows/,
  );
  await assertUserError(
    ['--input', join(dir, 'missing.tsv'), '--out', join(dir, 'x.tsv')],
    /missing\.tsv: it does not exist/,
  );
  await assertUserError(['--out', join(dir, 'x.tsv')], /--input is required/);
});
