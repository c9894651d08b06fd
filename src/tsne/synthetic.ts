/**
 * Reproducible synthetic data for tests and the benchmark: Gaussian clusters in d dimensions
 * (cluster centres drawn with std `separation`, points around them with std 1).
 *
 * With `intrinsicDim`, each cluster instead lies near its own random `intrinsicDim`-dimensional
 * subspace (std 1 along it, 0.05 across), like real embeddings, so that nearest neighbours carry
 * structure and 10-NN preservation means something; isotropic clusters have none.
 */
import { createGaussian } from '../util/random.ts';

export function clusteredData(
  n: number,
  d: number,
  clusters: number,
  seed: number,
  separation = 4,
  intrinsicDim = 0,
): { X: Float32Array; labels: Int32Array } {
  const gaussian = createGaussian(seed);
  const centres = new Float64Array(clusters * d);
  for (let t = 0; t < centres.length; t++) centres[t] = gaussian() * separation;
  const X = new Float32Array(n * d);
  const labels = new Int32Array(n);
  const q = intrinsicDim;
  const bases = new Float64Array(clusters * q * d);
  for (let t = 0; t < bases.length; t++) bases[t] = gaussian() / Math.sqrt(d / Math.max(q, 1));
  const z = new Float64Array(q);
  for (let i = 0; i < n; i++) {
    const c = i % clusters;
    labels[i] = c;
    if (q === 0) {
      for (let t = 0; t < d; t++) X[i * d + t] = centres[c * d + t] + gaussian();
      continue;
    }
    for (let a = 0; a < q; a++) z[a] = gaussian();
    for (let t = 0; t < d; t++) {
      let v = centres[c * d + t] + 0.05 * gaussian();
      for (let a = 0; a < q; a++) v += bases[(c * q + a) * d + t] * z[a];
      X[i * d + t] = v;
    }
  }
  return { X, labels };
}
