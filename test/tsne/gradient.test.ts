import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  barnesHutGradient,
  clusteredData,
  computeAffinities,
  exactGradient,
  fftGradient,
  GradientWorkspace,
  pcaInit,
  TSNEEmbedding,
} from '../../src/tsne/index.ts';
import { entropyTerm, exactRepulsion } from '../../src/tsne/gradient.ts';
import { QuadTree } from '../../src/tsne/quadtree.ts';
import { createGaussian } from '../../src/util/random.ts';

/** A realistic layout: 500 clustered points after the early phase and some normal iterations. */
function layout500() {
  const n = 500;
  const d = 32;
  const { X } = clusteredData(n, d, 6, 11);
  const P = computeAffinities(X, n, d, { perplexity: 30 });
  const embedding = new TSNEEmbedding(pcaInit(X, n, d), P);
  embedding.optimize({ iterations: 100, exaggeration: 12, momentum: 0.5 });
  embedding.optimize({ iterations: 100 });
  return { P, Y: Float64Array.from(embedding.positions), n };
}

function relativeError(a: Float64Array, b: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let t = 0; t < a.length; t++) {
    num += (a[t] - b[t]) ** 2;
    den += b[t] ** 2;
  }
  return Math.sqrt(num / den);
}

test('the exact gradient is the derivative of KL (finite differences, sklearn factor 4)', () => {
  const n = 40;
  const d = 5;
  const gaussian = createGaussian(3);
  const X = Float32Array.from({ length: n * d }, () => gaussian());
  const P = computeAffinities(X, n, d, { perplexity: 5 });
  const Y = Float64Array.from({ length: 2 * n }, () => gaussian() * 2);
  const grad = new Float64Array(2 * n);
  exactGradient(P, Y, 1, grad);
  const kl = (Z: Float64Array) => exactGradient(P, Z, 1, new Float64Array(2 * n)).kl;
  for (const t of [0, 1, 17, 2 * n - 1]) {
    const h = 1e-6;
    const plus = Float64Array.from(Y);
    const minus = Float64Array.from(Y);
    plus[t] += h;
    minus[t] -= h;
    const numeric = (kl(plus) - kl(minus)) / (2 * h);
    assert.ok(
      Math.abs(numeric - grad[t]) < 1e-6 * (1 + Math.abs(numeric)),
      `coordinate ${t}: numeric ${numeric}, analytic ${grad[t]}`,
    );
  }
});

// The tree's repulsion sums in float32 (./force-kernel.ts), so θ = 0 is the exact gradient to
// float32 rounding (measured: 7.4e-6 of the gradient, 1.3e-9 of Z and of KL).
test('Barnes-Hut with θ = 0 is the exact gradient', () => {
  const { P, Y, n } = layout500();
  const exact = new Float64Array(2 * n);
  const bh = new Float64Array(2 * n);
  const e = exactGradient(P, Y, 1, exact);
  const b = barnesHutGradient(P, Y, 1, 0, bh, new GradientWorkspace(n), entropyTerm(P));
  assert.ok(relativeError(bh, exact) < 3e-5, `relative gradient error ${relativeError(bh, exact)}`);
  assert.ok(Math.abs(b.z - e.z) < 1e-8 * e.z);
  assert.ok(Math.abs(b.kl - e.kl) < 1e-8);
});

// Stated tolerance at θ = 0.5 on 500 points: Barnes-Hut approximates only the repulsive half, so
// the error is measured against it: ‖g_BH − g_exact‖ ≤ 1 % of ‖4 · rep / Z‖ (measured: 0.3 %);
// Z and KL within 1 %. (Against the total gradient the ratio is larger, about 20 % here, because
// attraction and repulsion nearly cancel in a converged layout.)
test('Barnes-Hut with θ = 0.5 matches the exact gradient on 500 points within the stated tolerance', () => {
  const { P, Y, n } = layout500();
  const exact = new Float64Array(2 * n);
  const bh = new Float64Array(2 * n);
  const e = exactGradient(P, Y, 1, exact);
  const b = barnesHutGradient(P, Y, 1, 0.5, bh, new GradientWorkspace(n), entropyTerm(P));
  const tree = new QuadTree();
  tree.build(Y, n);
  const repulsive = new Float64Array(2 * n);
  tree.repulsion(0, repulsive);
  let repulsiveNorm = 0;
  let errorNorm = 0;
  for (let t = 0; t < 2 * n; t++) {
    repulsiveNorm += ((4 * repulsive[t]) / e.z) ** 2;
    errorNorm += (bh[t] - exact[t]) ** 2;
  }
  const error = Math.sqrt(errorNorm / repulsiveNorm);
  assert.ok(error < 0.01, `gradient error ${error} of the repulsive force`);
  assert.ok(error > 0, 'θ = 0.5 should approximate, not be exact');
  assert.ok(Math.abs(b.z - e.z) < 0.01 * e.z, `Z ${b.z} vs ${e.z}`);
  assert.ok(Math.abs(b.kl - e.kl) < 0.01 * e.kl, `KL ${b.kl} vs ${e.kl}`);
  // Coarser θ means a larger error: the approximation is doing what θ says.
  const coarse = new Float64Array(2 * n);
  barnesHutGradient(P, Y, 1, 1.2, coarse, new GradientWorkspace(n));
  assert.ok(relativeError(coarse, exact) > relativeError(bh, exact));
});

test('the quadtree copes with duplicate points (an untrained network maps many inputs alike)', () => {
  const n = 300;
  const d = 8;
  const X = new Float32Array(n * d); // every point identical except a few
  for (let t = 0; t < 5 * d; t++) X[t] = t % 3;
  const P = computeAffinities(X, n, d, { perplexity: 10 });
  const Y = new Float64Array(2 * n); // all at the origin but two
  Y[0] = 1;
  Y[3] = -1;
  const exact = new Float64Array(2 * n);
  const bh = new Float64Array(2 * n);
  exactGradient(P, Y, 1, exact);
  barnesHutGradient(P, Y, 1, 0.5, bh, new GradientWorkspace(n));
  assert.ok(bh.every(Number.isFinite));
  assert.ok(relativeError(bh, exact) < 0.05, `relative gradient error ${relativeError(bh, exact)}`);
});

test('FFT-interpolated repulsion: gradient within 1e-3 of the exact one, and the repulsion near convergence', () => {
  const n = 500;
  const d = 32;
  const { X } = clusteredData(n, d, 6, 11);
  const P = computeAffinities(X, n, d, { perplexity: 30 });
  const embedding = new TSNEEmbedding(pcaInit(X, n, d), P);
  embedding.optimize({ iterations: 100, exaggeration: 12, momentum: 0.5 });
  // After the early phase the gradient is far from zero in both phases' terms: a relative error means something.
  const early = Float64Array.from(embedding.positions);
  for (const exaggeration of [12, 1]) {
    const exact = new Float64Array(2 * n);
    const approximate = new Float64Array(2 * n);
    const reference = exactGradient(P, early, exaggeration, exact);
    const result = fftGradient(P, early, exaggeration, approximate, new GradientWorkspace(n), entropyTerm(P));
    const error = relativeError(approximate, exact);
    assert.ok(error < 1e-3, `relative gradient error ${error} (exaggeration ${exaggeration})`);
    // Z enters only the KL, as log Z: 3e-4 of Z moves the printed KL by less than its last digit.
    // (Its error depends on where the points fall on the grid: 0.4–1.1e-4 on layouts of this data.)
    assert.ok(Math.abs(result.z - reference.z) < 3e-4 * reference.z, `Z ${result.z} vs ${reference.z}`);
  }
  // Near convergence attraction and repulsion nearly cancel, so the error of their sum says little
  // (it moves with every change of the layout, for Barnes-Hut as for the interpolation); what the
  // interpolation approximates, the repulsion and Z, stays close there (1.2e-3 of the repulsion on
  // this layout: with the layout spread out, each grid interval covers more of it).
  const { Y } = layout500();
  const exact = new Float64Array(2 * n);
  const exactZ = exactRepulsion(Y, n, exact);
  const interpolated = new Float64Array(2 * n);
  const z = new GradientWorkspace(n).interpolation.repulsion(Y, n, interpolated);
  const error = relativeError(interpolated, exact);
  assert.ok(error < 2e-3, `near convergence: relative error of the repulsion ${error}`);
  assert.ok(Math.abs(z - exactZ) < 3e-4 * exactZ, `near convergence: Z ${z} vs ${exactZ}`);
});
