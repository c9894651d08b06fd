import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { needs } from '../../helpers/requirements.ts';
import { UserError } from '../../../src/errors.ts';
import { decodePng, encodePng } from '../../../src/tensorboard/png.ts';
import { cutSprite } from '../../../src/watch/sources/projector/sprite.ts';
import { PYTORCH_RUNS } from './helpers.ts';

test(
  "PyTorch's 32 × 32 sprite of 300 points (an 18 × 18 grid, padded) gives each point its tile",
  { skip: needs('shared') },
  async () => {
    const bytes = await readFile(join(PYTORCH_RUNS, 'basic/00000/default/sprite.png'));
    const sprite = decodePng(bytes);
    const thumbs = await cutSprite(bytes, 300, [32, 32], 'sprite.png');
    assert.equal(thumbs.count, 300);
    assert.equal(thumbs.pixels.length, 300 * 32 * 32 * 3);
    // Point 19 is row 1, column 1 of the 18-tile-wide grid; its pixel (5, 7).
    const from = ((32 + 7) * sprite.width + 32 + 5) * sprite.channels;
    const to = (19 * 32 * 32 + 7 * 32 + 5) * 3;
    assert.deepEqual([...thumbs.pixels.subarray(to, to + 3)], [...sprite.pixels.subarray(from, from + 3)]);
    // Without single_image_dim the square grid is inferred.
    const inferred = await cutSprite(bytes, 300, undefined, 'sprite.png');
    assert.deepEqual([inferred.tileWidth, inferred.tileHeight], [32, 32]);
    assert.ok(Buffer.from(inferred.pixels).equals(Buffer.from(thumbs.pixels)));
  },
);

test('non-square tiles (12 × 20 px) in a padded grid; too small a sprite is one clear line', async () => {
  const [w, h, side, count] = [12, 20, 3, 7];
  const image = new Uint8Array(side * w * side * h * 4);
  for (let t = 0; t < count; t++) {
    const left = (t % side) * w;
    const top = Math.floor(t / side) * h;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const at = ((top + y) * side * w + left + x) * 4;
        image.set([10 * t, x, y, 255], at);
      }
  }
  const png = encodePng(image, side * w, side * h, 4);
  const thumbs = await cutSprite(png, count, [w, h], 'sprite.png');
  assert.deepEqual([thumbs.tileWidth, thumbs.tileHeight], [w, h]);
  for (const [t, x, y] of [
    [0, 0, 0],
    [4, 11, 19],
    [6, 3, 17],
  ] as const) {
    const at = (t * w * h + y * w + x) * 3;
    assert.deepEqual([...thumbs.pixels.subarray(at, at + 3)], [10 * t, x, y], `tile ${t} pixel (${x}, ${y})`);
  }
  await assert.rejects(
    cutSprite(png, 10, [w, h], 'sprite.png'),
    /has room for 9 tiles of 12 × 20 px but there are 10 points/,
  );
  await assert.rejects(cutSprite(Buffer.from('not an image'), 1, [w, h], 'bad.png'), /sprite bad\.png is not an image/);
});

test('a truncated or corrupt sprite PNG is one clear line, not black thumbnails', async () => {
  const [w, h, count] = [8, 8, 4];
  const image = Uint8Array.from({ length: 2 * w * 2 * h * 3 }, (_, i) => (i * 7 + (i >> 5)) & 0xff);
  const png = encodePng(image, 2 * w, 2 * h, 3);
  const truncated = png.subarray(0, png.length >> 1);
  const corrupt = Buffer.from(png);
  for (let i = 60; i < corrupt.length - 20; i += 13) corrupt[i] ^= 0x5a;
  for (const bytes of [truncated, corrupt]) {
    await assert.rejects(cutSprite(bytes, count, [w, h], 'bad.png'), (error: unknown) => {
      assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
      assert.match(error.message, /^sprite bad\.png: (corrupt PNG|PNG image data is truncated)/);
      assert.ok(!error.message.includes('\n'));
      return true;
    });
  }
});
