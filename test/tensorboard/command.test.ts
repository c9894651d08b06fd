import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IMAGES_KEPT_PER_TAG, TENSORBOARD_FLAGS, tensorboardCommand } from '../../src/tensorboard/index.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('the recommended tensorboard command keeps every frame and pastes into a shell as is', () => {
  const expected = `tensorboard --logdir logs --samples_per_plugin=images=${IMAGES_KEPT_PER_TAG}`;
  assert.equal(tensorboardCommand('logs'), expected);
  assert.deepEqual(TENSORBOARD_FLAGS, ['--samples_per_plugin=images=100000']);
  assert.equal(tensorboardCommand('my logs'), "tensorboard --logdir 'my logs' --samples_per_plugin=images=100000");
  assert.equal(tensorboardCommand("it's"), "tensorboard --logdir 'it'\\''s' --samples_per_plugin=images=100000");
});

test('the README recommends that command wherever it starts TensorBoard', () => {
  const lines = README.split('\n').filter((line) => /^\s*tensorboard --logdir|`tensorboard --logdir/.test(line));
  assert.ok(lines.length >= 3, lines.join('\n'));
  for (const line of lines) assert.ok(line.includes(tensorboardCommand('logs')), line);
});
