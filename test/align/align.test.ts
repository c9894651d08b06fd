import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignFrame, applyRotation, normalizeFrame, procrustesRotation } from '../../src/align/index.ts';
import { displacement } from '../../src/tsne/quality.ts';
import { createGaussian } from '../../src/util/random.ts';

function cloud(n: number, seed: number): Float64Array {
  const gaussian = createGaussian(seed);
  // Anisotropic, so the rotation is well defined.
  return Float64Array.from(
    { length: 2 * n },
    (_, t) => gaussian() * (t % 2 === 0 ? 2 : 0.7) + (t % 2 === 0 ? 0.5 : -0.3),
  );
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  assert.equal(actual.length, expected.length);
  for (let t = 0; t < actual.length; t++)
    assert.ok(Math.abs(actual[t] - expected[t]) < tolerance, `[${t}] ${actual[t]} vs ${expected[t]}`);
}

test('normalizeFrame gives zero mean and unit (population) std per axis', () => {
  const Y = normalizeFrame(cloud(500, 1));
  for (let axis = 0; axis < 2; axis++) {
    let mean = 0;
    let square = 0;
    for (let i = 0; i < 500; i++) {
      mean += Y[2 * i + axis] / 500;
      square += Y[2 * i + axis] ** 2 / 500;
    }
    assert.ok(Math.abs(mean) < 1e-12);
    assert.ok(Math.abs(square - 1) < 1e-12);
  }
});

test('Procrustes recovers a known rotation exactly', () => {
  const prev = cloud(300, 2);
  const angle = 1.234;
  // new = prev rotated by −angle, so the R mapping new onto prev rotates by +angle.
  const R = Float64Array.of(Math.cos(angle), Math.sin(angle), -Math.sin(angle), Math.cos(angle));
  const inverse = Float64Array.of(R[0], R[2], R[1], R[3]);
  const rotated = applyRotation(prev, inverse);
  assertClose(procrustesRotation(rotated, prev), R, 1e-12);
  assertClose(alignFrame(rotated, prev), prev, 1e-12);
});

test('Procrustes recovers a known reflection exactly (scipy allows det = −1)', () => {
  const prev = cloud(300, 3);
  const mirrored = prev.map((v, t) => (t % 2 === 0 ? -v : v));
  const R = procrustesRotation(mirrored, prev);
  assertClose(R, [-1, 0, 0, 1], 1e-12);
  assertClose(alignFrame(mirrored, prev), prev, 1e-12);
  // A rotation composed with a reflection.
  const twisted = applyRotation(mirrored, Float64Array.of(0, 1, -1, 0));
  assertClose(alignFrame(twisted, prev), prev, 1e-12);
});

test('R is orthogonal and no rotation or reflection fits better (noisy frames)', () => {
  const prev = cloud(200, 4);
  const noise = createGaussian(5);
  const next = applyRotation(prev, Float64Array.of(0.6, -0.8, 0.8, 0.6)).map((v) => v + 0.5 * noise());
  const R = procrustesRotation(next, prev);
  assertClose([R[0] * R[0] + R[2] * R[2], R[0] * R[1] + R[2] * R[3], R[1] * R[1] + R[3] * R[3]], [1, 0, 1], 1e-12);
  const misfit = (M: Float64Array) => {
    const Z = applyRotation(next, M);
    let s = 0;
    for (let t = 0; t < Z.length; t++) s += (Z[t] - prev[t]) ** 2;
    return s;
  };
  const best = misfit(R);
  for (let step = 0; step < 360; step++) {
    const a = (step * Math.PI) / 180;
    const [c, s] = [Math.cos(a), Math.sin(a)];
    assert.ok(best <= misfit(Float64Array.of(c, s, -s, c)) + 1e-9);
    assert.ok(best <= misfit(Float64Array.of(c, s, s, -c)) + 1e-9);
  }
});

test('the aligned frame never moved more than the unaligned one', () => {
  const noise = createGaussian(6);
  for (let trial = 0; trial < 50; trial++) {
    const prev = normalizeFrame(cloud(100, 100 + trial));
    const a = noise() * Math.PI;
    const flip = trial % 2 === 0 ? 1 : -1;
    const raw = normalizeFrame(
      applyRotation(prev, Float64Array.of(Math.cos(a), flip * Math.sin(a), -Math.sin(a), flip * Math.cos(a))).map(
        (v) => v + (trial / 50) * noise(),
      ),
    );
    assert.ok(displacement(alignFrame(raw, prev), prev) <= displacement(raw, prev) + 1e-12, `trial ${trial}`);
  }
});

test('frames of different sizes are refused, naming both sizes', () => {
  assert.throws(() => alignFrame(new Float64Array(10), new Float64Array(12)), /5 points.*6/);
});
