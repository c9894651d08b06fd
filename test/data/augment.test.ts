import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TrainBatches,
  identityTransform,
  toModelInput,
  transformImage,
  type ImageTransform,
  type Split,
} from '../../src/data/index.ts';
import { Random } from '../../src/util/random.ts';

const SIZE = 32;
const BYTES = SIZE * SIZE * 3;

/** `count` images of random bytes, labels cycling 0–9. */
function randomSplit(count: number, seed = 1): Split {
  const random = new Random(seed);
  const images = new Uint8Array(count * BYTES);
  for (let i = 0; i < images.length; i++) images[i] = random.int(256);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % 10;
  return { images, labels, count };
}

/** An image from a function of (x, y, channel). */
function imageFrom(pixel: (x: number, y: number, c: number) => number): Uint8Array {
  const image = new Uint8Array(BYTES);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) image[(y * SIZE + x) * 3 + c] = pixel(x, y, c);
  return image;
}

const unit = (byte: number) => Math.fround(byte / 127.5 - 1);

function transformed(image: Uint8Array, t: Partial<ImageTransform>): Float32Array {
  const out = new Float32Array(BYTES);
  transformImage(image, 0, out, 0, { ...identityTransform(), ...t });
  return out;
}

/** What flip + crop must give, computed the plain way: flip, pad with black, cut the window. */
function expectedFlipCrop(image: Uint8Array, flip: boolean, cropX: number, cropY: number): Float32Array {
  const out = new Float32Array(BYTES);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const fx = x + cropX;
      const fy = y + cropY;
      for (let c = 0; c < 3; c++) {
        const inside = fx >= 0 && fx < SIZE && fy >= 0 && fy < SIZE;
        const sourceX = flip ? SIZE - 1 - fx : fx;
        out[(y * SIZE + x) * 3 + c] = inside ? unit(image[(fy * SIZE + sourceX) * 3 + c]) : -1;
      }
    }
  }
  return out;
}

test('identity transform is exactly the model input x/127.5 - 1', () => {
  const { images } = randomSplit(1);
  assert.deepEqual(transformed(images, {}), toModelInput(images));
});

test('horizontal flip mirrors columns exactly', () => {
  const image = imageFrom((x, y, c) => (x * 7 + y * 3 + c * 100) % 256);
  const out = transformed(image, { flip: true });
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      for (let c = 0; c < 3; c++) assert.equal(out[(y * SIZE + x) * 3 + c], unit(image[(y * SIZE + (31 - x)) * 3 + c]));
    }
  }
  // Mirrored twice gives the original.
  assert.deepEqual(
    transformed(new Uint8Array(out.map((v) => Math.round((v + 1) * 127.5))), { flip: true }),
    toModelInput(image),
  );
});

test('crop shifts the picture and fills the padding with black (-1), with and without flip', () => {
  const { images } = randomSplit(1, 5);
  for (const [flip, cropX, cropY] of [
    [false, 3, -2],
    [false, -4, 4],
    [true, 4, 0],
    [true, -1, -3],
    [false, 0, 0],
  ] as const) {
    assert.deepEqual(
      transformed(images, { flip, cropX, cropY }),
      expectedFlipCrop(images, flip, cropX, cropY),
      `flip ${flip} crop ${cropX},${cropY}`,
    );
  }
  // Concretely: cropX = 3 moves the picture 3 pixels left, the rightmost 3 columns are black.
  const marker = imageFrom((x, y) => (x === 10 && y === 20 ? 255 : 0));
  const shifted = transformed(marker, { cropX: 3, cropY: -2 });
  assert.equal(shifted[(22 * SIZE + 7) * 3], 1);
});

test('rotation by 90° turns the picture counter-clockwise (bilinear reduces to exact pixels)', () => {
  const { images } = randomSplit(1, 9);
  const out = transformed(images, { angleDegrees: 90 });
  // Counter-clockwise on screen: output (x, y) shows source (31 - y, x).
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      for (let c = 0; c < 3; c++) {
        const expected = unit(images[(x * SIZE + (31 - y)) * 3 + c]);
        assert.ok(Math.abs(out[(y * SIZE + x) * 3 + c] - expected) < 1e-5, `(${x}, ${y}) channel ${c}`);
      }
    }
  }
});

test('flip, crop and rotation compose in that order: rotation turns the flipped, cropped picture', () => {
  const { images } = randomSplit(1, 13);
  const flipped = expectedFlipCrop(images, true, -3, 2);
  const out = transformed(images, { flip: true, cropX: -3, cropY: 2, angleDegrees: 90 });
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      for (let c = 0; c < 3; c++) {
        const expected = flipped[(x * SIZE + (31 - y)) * 3 + c];
        assert.ok(Math.abs(out[(y * SIZE + x) * 3 + c] - expected) < 1e-5, `(${x}, ${y}) channel ${c}`);
      }
    }
  }
});

test('a small rotation keeps a centred round blob, turns a centred bar, and blackens the corners', () => {
  // Smooth, so that bilinear resampling itself changes little; symmetric about the grid centre 15.5.
  const blob = imageFrom((x, y) => Math.round(255 * Math.exp(-((x - 15.5) ** 2 + (y - 15.5) ** 2) / 50)));
  // Also centred, but a vertical bar: a turn must move it.
  const bar = imageFrom((x, y) => (x >= 14 && x <= 17 && y >= 4 && y <= 27 ? 255 : 0));
  const white = imageFrom(() => 255);
  const meanDifference = (a: Float32Array, b: Float32Array) =>
    a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;
  for (const angleDegrees of [-15, -7.5, 10, 15]) {
    const blobChange = meanDifference(transformed(blob, { angleDegrees }), toModelInput(blob));
    const barChange = meanDifference(transformed(bar, { angleDegrees }), toModelInput(bar));
    assert.ok(blobChange < 0.005, `blob changed by ${blobChange} at ${angleDegrees}°`);
    assert.ok(barChange > 0.05, `bar changed by only ${barChange} at ${angleDegrees}°`);
    const turned = transformed(white, { angleDegrees });
    assert.equal(turned[0], -1, 'the top-left corner comes from outside the image');
    assert.ok(Math.abs(turned[(16 * SIZE + 16) * 3] - 1) < 1e-6, 'the centre stays white');
    assert.ok(turned.every((v) => v >= -1 && v <= 1));
  }
});

test('batches have the right shapes, labels, indices and value range; an epoch visits every image once', () => {
  const split = randomSplit(600);
  const batches = new TrainBatches(split, { batchSize: 256, seed: 3 });
  const seen: number[] = [];
  const sizes: number[] = [];
  for (const batch of batches.batches(0)) {
    sizes.push(batch.count);
    assert.equal(batch.x.length, batch.count * BYTES);
    assert.equal(batch.labels.length, batch.count);
    assert.equal(batch.indices.length, batch.count);
    assert.equal(batch.epoch, 0);
    for (let k = 0; k < batch.count; k++) assert.equal(batch.labels[k], split.labels[batch.indices[k]]);
    let low = Infinity;
    let high = -Infinity;
    for (const v of batch.x) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
    assert.ok(low >= -1 && high <= 1, `values in [${low}, ${high}]`);
    assert.ok(low === -1 && high > 0.99, 'random images reach both ends');
    seen.push(...batch.indices);
  }
  assert.deepEqual(sizes, [256, 256, 88]);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 600 }, (_, i) => i),
  );
  assert.notDeepEqual(
    seen,
    Array.from({ length: 600 }, (_, i) => i),
    'shuffled',
  );
  assert.deepEqual(
    [...new TrainBatches(split, { batchSize: 256, dropLast: true }).batches(0)].map((b) => b.count),
    [256, 256],
  );
});

test('with rotation off, every augmented image is its source flipped and cropped as reported', () => {
  const split = randomSplit(300, 11);
  const batches = new TrainBatches(split, { batchSize: 64, seed: 4, augment: { maxRotationDegrees: 0 } });
  let flips = 0;
  const cropsSeen = new Set<number>();
  for (const batch of batches.batches(2)) {
    for (let k = 0; k < batch.count; k++) {
      const t = batches.transformAt(2, batch.offset + k);
      assert.equal(t.angleDegrees, 0);
      assert.ok(Math.abs(t.cropX) <= 4 && Math.abs(t.cropY) <= 4);
      const source = split.images.subarray(batch.indices[k] * BYTES, (batch.indices[k] + 1) * BYTES);
      const got = batch.x.subarray(k * BYTES, (k + 1) * BYTES);
      assert.deepEqual(got, expectedFlipCrop(source, t.flip, t.cropX, t.cropY));
      if (t.flip) flips++;
      cropsSeen.add(t.cropX * 100 + t.cropY);
    }
  }
  assert.ok(flips > 110 && flips < 190, `${flips} of 300 flipped`);
  assert.ok(cropsSeen.size > 60, `only ${cropsSeen.size} of 81 crop offsets drawn`);
});

test('augment: false gives the plain model input; the default rotates within ±15°', () => {
  const split = randomSplit(50);
  const plain = new TrainBatches(split, { batchSize: 50, augment: false, shuffle: false });
  const [batch] = plain.batches(0);
  assert.deepEqual(batch.x, toModelInput(split.images));
  const seed = new TrainBatches(split, { batchSize: 50, seed: 8 });
  const angles = Array.from({ length: 200 }, (_, position) => seed.transformAt(0, position).angleDegrees);
  assert.ok(angles.every((a) => Math.abs(a) <= 15));
  assert.ok(Math.min(...angles) < -12 && Math.max(...angles) > 12, 'the whole range is used');
});

test('the same seed gives the same batches; another seed or epoch gives another order', () => {
  const split = randomSplit(200);
  const collect = (seed: number, epoch: number) => [
    ...new TrainBatches(split, { batchSize: 64, seed, reuseBuffers: false }).batches(epoch),
  ];
  const first = collect(7, 0);
  const again = collect(7, 0);
  assert.equal(first.length, 4);
  for (let b = 0; b < first.length; b++) {
    assert.deepEqual(again[b].indices, first[b].indices);
    assert.deepEqual(again[b].x, first[b].x);
  }
  assert.notDeepEqual(collect(8, 0)[0].indices, first[0].indices);
  assert.notDeepEqual(collect(7, 1)[0].indices, first[0].indices);
  // reuseBuffers: false hands out separate arrays.
  assert.notEqual(first[0].x.buffer, first[1].x.buffer);
});

test('an epoch order depends only on (seed, epoch), so a resumed run continues the same order and augmentation', () => {
  const split = randomSplit(500, 2);
  const full = new TrainBatches(split, { batchSize: 128, seed: 21, reuseBuffers: false });
  // Walk epochs 0…3 on one instance; a fresh instance asked for epoch 3 directly agrees.
  for (let epoch = 0; epoch < 3; epoch++)
    for (const _ of full.batches(epoch)) {
      /* consume */
    }
  const fresh = new TrainBatches(split, { batchSize: 128, seed: 21, reuseBuffers: false });
  assert.deepEqual(fresh.epochOrder(3), full.epochOrder(3));
  assert.deepEqual(
    [...fresh.epochOrder(3)].sort((a, b) => a - b),
    Array.from({ length: 500 }, (_, i) => i),
  );

  const uninterrupted = [...full.batches(3)];
  const flatX = (batches: { x: Float32Array }[]) => {
    const parts = batches.map((b) => b.x);
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const flatIndices = (batches: { indices: Int32Array }[]) => batches.flatMap((b) => [...b.indices]);
  for (const samplesSeen of [3 * 500 + 256, 3 * 500 + 300]) {
    const { epoch, offset } = fresh.locate(samplesSeen);
    assert.equal(epoch, 3);
    const resumed = [...fresh.batches(epoch, offset)];
    assert.equal(resumed[0].offset, offset);
    assert.deepEqual(flatIndices(resumed), flatIndices(uninterrupted).slice(offset));
    assert.deepEqual(flatX(resumed), flatX(uninterrupted).subarray(offset * BYTES));
  }
  assert.deepEqual([...fresh.batches(3, 500)], [], 'resuming at the end of an epoch yields nothing');
  assert.throws(() => [...fresh.batches(3, 501)], RangeError);
});
