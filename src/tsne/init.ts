/**
 * Initial 2-D layouts. t-SNE starts from a tiny layout (std 1e-4, as sklearn and openTSNE do) so
 * early exaggeration can gather clusters before repulsion spreads them; PCA gives that tiny layout
 * the data's global shape, which is why it is the default for a cold start.
 */
import { EigenvalueDecomposition, Matrix } from '../util/ml-matrix.ts';
import { createGaussian } from '../util/random.ts';
import { centre } from './centroid.ts';

const INITIAL_STD = 1e-4;

/** Projects X (n × d) onto its first two principal axes, scaled so axis 0 has std 1e-4. */
export function pcaInit(X: ArrayLike<number>, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] += X[i * d + t];
  for (let t = 0; t < d; t++) mean[t] /= n;
  // Covariance (upper triangle, then mirrored); row-by-row accumulation keeps the loop simple.
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) row[t] = X[i * d + t] - mean[t];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += ra * row[b];
    }
  }
  const matrix = new Matrix(d, d);
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      matrix.set(a, b, cov[a * d + b]);
      matrix.set(b, a, cov[a * d + b]);
    }
  const evd = new EigenvalueDecomposition(matrix, { assumeSymmetric: true });
  const eigenvalues = evd.realEigenvalues;
  const byValue = eigenvalues.map((_, index) => index).sort((a, b) => eigenvalues[b] - eigenvalues[a]);
  const vectors = evd.eigenvectorMatrix;
  const Y = new Float64Array(2 * n);
  for (let axis = 0; axis < 2; axis++) {
    const column = byValue[Math.min(axis, byValue.length - 1)];
    const v = new Float64Array(d);
    for (let t = 0; t < d; t++) v[t] = vectors.get(t, column);
    // Eigenvectors have no preferred sign; fix one so results do not depend on the solver.
    let largest = 0;
    for (let t = 0; t < d; t++) if (Math.abs(v[t]) > Math.abs(largest)) largest = v[t];
    const sign = largest < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += (X[i * d + t] - mean[t]) * v[t];
      Y[2 * i + axis] = sign * s;
    }
  }
  return rescale(Y, INITIAL_STD, () => 0);
}

/** Gaussian positions with std 1e-4, from a seed. */
export function randomInit(n: number, seed: number): Float64Array {
  const gaussian = createGaussian(seed);
  const Y = new Float64Array(2 * n);
  for (let t = 0; t < Y.length; t++) Y[t] = gaussian() * INITIAL_STD;
  return Y;
}

/**
 * Centres Y and scales both axes by one factor so that axis 0 has standard deviation `std`
 * (sklearn's convention for its PCA init). A degenerate axis (all equal) is replaced by noise
 * from `noise` so the optimiser has something to separate.
 */
export function rescale(Y: Float64Array, std: number, noise: () => number): Float64Array {
  const n = Y.length / 2;
  const out = Float64Array.from(Y);
  centre(out);
  let vx = 0;
  for (let i = 0; i < n; i++) vx += out[2 * i] * out[2 * i];
  const current = Math.sqrt(vx / n);
  if (!(current > 0)) {
    for (let t = 0; t < out.length; t++) out[t] = noise() * std;
    return out;
  }
  const factor = std / current;
  for (let t = 0; t < out.length; t++) out[t] *= factor;
  return out;
}
