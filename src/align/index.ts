/**
 * Frame-to-frame registration, as in the seed: normalise each 2-D frame to zero mean and unit
 * standard deviation per axis, then rotate (or reflect) it onto the previous frame with the
 * orthogonal Procrustes solution, exactly like `scipy.linalg.orthogonal_procrustes(new, prev)`
 * followed by `new @ R`.
 *
 * Frames are interleaved Float64Arrays [x0, y0, x1, y1, …].
 */
import { Matrix, SingularValueDecomposition } from '../util/ml-matrix.ts';

/** A 2 × 2 matrix, row-major: [r00, r01, r10, r11]. */
export type Matrix2 = Float64Array;

/** Zero mean and unit (population, ddof = 0) standard deviation per axis; a constant axis is only centred. */
export function normalizeFrame(Y: Float64Array): Float64Array {
  const n = Y.length / 2;
  const out = new Float64Array(Y.length);
  for (let axis = 0; axis < 2; axis++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += Y[2 * i + axis];
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (Y[2 * i + axis] - mean) ** 2;
    const std = Math.sqrt(variance / n);
    const scale = std > 0 ? 1 / std : 1;
    for (let i = 0; i < n; i++) out[2 * i + axis] = (Y[2 * i + axis] - mean) * scale;
  }
  return out;
}

/**
 * The orthogonal R minimising ‖new·R − prev‖_F: with new ᵀ·prev = U Σ Vᵀ, R = U Vᵀ
 * (may be a reflection, as scipy's). Both frames must hold the same points in the same order.
 */
export function procrustesRotation(newY: Float64Array, prevY: Float64Array): Matrix2 {
  checkSameSize(newY, prevY);
  const n = newY.length / 2;
  let m00 = 0;
  let m01 = 0;
  let m10 = 0;
  let m11 = 0;
  for (let i = 0; i < n; i++) {
    const ax = newY[2 * i];
    const ay = newY[2 * i + 1];
    const bx = prevY[2 * i];
    const by = prevY[2 * i + 1];
    m00 += ax * bx;
    m01 += ax * by;
    m10 += ay * bx;
    m11 += ay * by;
  }
  const svd = new SingularValueDecomposition(
    new Matrix([
      [m00, m01],
      [m10, m11],
    ]),
  );
  const R = svd.leftSingularVectors.mmul(svd.rightSingularVectors.transpose());
  return Float64Array.of(R.get(0, 0), R.get(0, 1), R.get(1, 0), R.get(1, 1));
}

/** new @ R: each row (x, y) becomes (x·r00 + y·r10, x·r01 + y·r11). */
export function applyRotation(Y: Float64Array, R: Matrix2): Float64Array {
  const out = new Float64Array(Y.length);
  for (let i = 0; i < Y.length; i += 2) {
    const x = Y[i];
    const y = Y[i + 1];
    out[i] = x * R[0] + y * R[2];
    out[i + 1] = x * R[1] + y * R[3];
  }
  return out;
}

/** The new frame rotated/reflected onto the previous one (the seed's `new @ R`). */
export function alignFrame(newY: Float64Array, prevY: Float64Array): Float64Array {
  return applyRotation(newY, procrustesRotation(newY, prevY));
}

function checkSameSize(newY: Float64Array, prevY: Float64Array): void {
  if (newY.length !== prevY.length || newY.length % 2 !== 0) {
    throw new RangeError(
      `cannot align frames of different sizes: new has ${newY.length / 2} points, previous has ${prevY.length / 2}`,
    );
  }
}
