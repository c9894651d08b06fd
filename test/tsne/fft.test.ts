import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fft2d } from '../../src/tsne/fft.ts';
import { createGaussian } from '../../src/util/random.ts';

/** The 2-D DFT by its definition, O(size⁴): the oracle. */
function naiveDft(re: Float64Array, im: Float64Array, size: number, sign: number): [Float64Array, Float64Array] {
  const outRe = new Float64Array(size * size);
  const outIm = new Float64Array(size * size);
  for (let u = 0; u < size; u++) {
    for (let v = 0; v < size; v++) {
      let sr = 0;
      let si = 0;
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          const angle = (sign * 2 * Math.PI * (u * r + v * c)) / size;
          const xr = re[r * size + c];
          const xi = im[r * size + c];
          sr += xr * Math.cos(angle) - xi * Math.sin(angle);
          si += xr * Math.sin(angle) + xi * Math.cos(angle);
        }
      }
      outRe[u * size + v] = sr;
      outIm[u * size + v] = si;
    }
  }
  return [outRe, outIm];
}

function maxDifference(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let t = 0; t < a.length; t++) worst = Math.max(worst, Math.abs(a[t] - b[t]));
  return worst;
}

test('Fft2d forward and inverse equal the 2-D DFT by definition', () => {
  const gaussian = createGaussian(5);
  for (const size of [2, 4, 8, 16]) {
    const re = Float64Array.from({ length: size * size }, () => gaussian());
    const im = Float64Array.from({ length: size * size }, () => gaussian());
    for (const sign of [-1, 1]) {
      const [expectedRe, expectedIm] = naiveDft(re, im, size, sign);
      const gotRe = Float64Array.from(re);
      const gotIm = Float64Array.from(im);
      const fft = new Fft2d(size);
      if (sign < 0) fft.forward(gotRe, gotIm);
      else fft.inverse(gotRe, gotIm);
      assert.ok(maxDifference(gotRe, expectedRe) < 1e-9 * size * size, `size ${size}, sign ${sign}, real part`);
      assert.ok(maxDifference(gotIm, expectedIm) < 1e-9 * size * size, `size ${size}, sign ${sign}, imaginary part`);
    }
  }
});

test('Fft2d skips the padding: forward of zero rows from `used` on, inverse read back in the first `used` rows', () => {
  const size = 16;
  const used = 7;
  const gaussian = createGaussian(9);
  const re = new Float64Array(size * size);
  const im = new Float64Array(size * size);
  for (let t = 0; t < used * size; t++) {
    re[t] = gaussian();
    im[t] = gaussian();
  }
  const [expectedRe, expectedIm] = naiveDft(re, im, size, -1);
  const fft = new Fft2d(size);
  const gotRe = Float64Array.from(re);
  const gotIm = Float64Array.from(im);
  fft.forward(gotRe, gotIm, used);
  assert.ok(maxDifference(gotRe, expectedRe) < 1e-9 && maxDifference(gotIm, expectedIm) < 1e-9);
  fft.inverse(gotRe, gotIm, used);
  const scale = 1 / (size * size);
  for (let t = 0; t < used * size; t++) {
    assert.ok(Math.abs(gotRe[t] * scale - re[t]) < 1e-12, `round trip, real part at ${t}`);
    assert.ok(Math.abs(gotIm[t] * scale - im[t]) < 1e-12, `round trip, imaginary part at ${t}`);
  }
});

test('Fft2d refuses a size that is not a power of two', () => {
  assert.throws(() => new Fft2d(12), /power of two/);
});
