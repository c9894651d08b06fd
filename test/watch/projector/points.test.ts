import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { needs } from '../../helpers/requirements.ts';
import { encodePng } from '../../../src/tensorboard/png.ts';
import { discoverRunChains } from '../../../src/watch/sources/projector/discover.ts';
import { chainPoints, squareTiles } from '../../../src/watch/sources/projector/points.ts';
import { CATEGORY_COLORS, CONTINUOUS_COLORS } from '../../../src/render/colors.ts';
import { PYTORCH_RUNS, temporaryDir, writeText } from './helpers.ts';

const CIFAR = 'airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck';

async function firstStep(runDir: string) {
  return (await discoverRunChains(runDir)).chains[0]!.steps[0]!;
}

test('basic/: ten CIFAR names as legend, thumbnails of 32 px from the sprite', { skip: needs('shared') }, async () => {
  const runDir = join(PYTORCH_RUNS, 'basic');
  const points = await chainPoints(runDir, await firstStep(runDir));
  assert.equal(points.count, 300);
  assert.equal(points.classNames.join(), CIFAR);
  assert.deepEqual(points.palette, CATEGORY_COLORS.slice(0, 10));
  assert.equal(points.classNames[points.labels[0]!], 'frog');
  assert.equal(points.tile, 32);
  assert.equal(points.images?.length, 300 * 32 * 32 * 3);
  assert.ok(points.images!.some((v) => v !== 0));
  assert.equal(points.colorBar, undefined);
});

test('header-nosprite/: legend from the label column, no thumbnails', { skip: needs('shared') }, async () => {
  const runDir = join(PYTORCH_RUNS, 'header-nosprite');
  const points = await chainPoints(runDir, await firstStep(runDir));
  assert.equal(points.classNames.join(), CIFAR);
  assert.equal(points.images, null);
  const byIndex = await chainPoints(runDir, await firstStep(runDir), 'test_index');
  assert.ok(byIndex.colorBar);
  assert.equal(byIndex.colorBar.title, 'test_index');
  assert.deepEqual(byIndex.palette.slice(0, CONTINUOUS_COLORS.length), CONTINUOUS_COLORS);
});

test('no metadata: one colour, and the legend says why; 25 classes: a colour bar', async () => {
  const runDir = await temporaryDir();
  await writeText(join(runDir, '00000', 'x', 'tensors.tsv'), '1\t2\t3\n4\t5\t6\n7\t8\t9\n');
  const plain = await chainPoints(runDir, await firstStep(runDir));
  assert.equal(plain.count, 3);
  assert.deepEqual([...plain.labels], [0, 0, 0]);
  assert.match(plain.classNames[0]!, /no metadata/);
  assert.match(plain.note, /one colour for every point/);

  const many = await temporaryDir();
  const names = Array.from({ length: 50 }, (_, i) => `species ${i % 25}`);
  await writeText(join(many, '00000', 'x', 'tensors.tsv'), names.map((_, i) => `${i}\t1`).join('\n') + '\n');
  await writeText(join(many, '00000', 'x', 'metadata.tsv'), names.join('\n') + '\n');
  const points = await chainPoints(many, await firstStep(many));
  assert.equal(points.colorBar?.low, 'species 0');
  assert.equal(points.colorBar?.high, 'species 24');
  assert.match(points.note, /continuous scale \(25 distinct values/);
});

test('non-square tiles are letterboxed into square ones, keeping their shape', async () => {
  const thumbs = { pixels: new Uint8Array(2 * 4 * 2 * 3).fill(200), count: 2, tileWidth: 4, tileHeight: 2 };
  const square = squareTiles(thumbs, 4);
  // Rows 0 and 3 are padding, rows 1–2 the picture.
  const row = (t: number, y: number) => [...square.subarray((t * 16 + y * 4) * 3, (t * 16 + y * 4 + 4) * 3)];
  assert.deepEqual(row(1, 0), new Array(12).fill(0));
  assert.deepEqual(row(1, 1), new Array(12).fill(200));
  assert.deepEqual(row(1, 3), new Array(12).fill(0));

  const runDir = await temporaryDir();
  const [w, h] = [12, 20];
  const sprite = new Uint8Array(2 * w * 2 * h * 3).fill(90);
  await writeText(join(runDir, '00000', 'x', 'tensors.tsv'), '1\t2\n3\t4\n5\t6\n');
  await writeText(join(runDir, '00000', 'x', 'metadata.tsv'), 'a\nb\na\n');
  await writeText(join(runDir, '00000', 'x', 'sprite.png'), encodePng(sprite, 2 * w, 2 * h, 3));
  await writeText(
    join(runDir, 'projector_config.pbtxt'),
    'embeddings { tensor_name: "x:00000" tensor_path: "00000/x/tensors.tsv" metadata_path: "00000/x/metadata.tsv" ' +
      `sprite { image_path: "00000/x/sprite.png" single_image_dim: ${w} single_image_dim: ${h} } }\n`,
  );
  const points = await chainPoints(runDir, await firstStep(runDir));
  assert.equal(points.tile, 20);
  assert.equal(points.images?.length, 3 * 20 * 20 * 3);
  // Column 0 is padding (12 px wide picture centred in 20), column 10 is picture.
  assert.equal(points.images![0], 0);
  assert.equal(points.images![10 * 3], 90);
});
