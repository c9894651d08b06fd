/**
 * Runs a FIt-SNE binary (KlugerLab/FIt-SNE's `bin/fast_tsne`, built from its repository with
 * `g++ -std=c++11 -O3 src/sptree.cpp src/tsne.cpp src/nbodyfft.cpp -o bin/fast_tsne -pthread -lfftw3 -lm`)
 * the way its `fast_tsne.py` does with its defaults: FFT interpolation, Annoy neighbours (50 trees),
 * perplexity 30, 750 iterations (early exaggeration 12 for 250), learning rate max(200, N / 12),
 * PCA initialisation scaled to std 1e-4 (ours, given as the initialisation). For the benchmark only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcaInit } from '../src/tsne/index.ts';

export interface FitsneResult {
  positions: Float64Array;
  /** KL at the last iteration FIt-SNE reports it (every 50). */
  kl: number;
  iterations: number;
  /** Wall-clock seconds of the process, reading its input included. */
  seconds: number;
}

export function runFitsne(binary: string, X: Float32Array, n: number, d: number, threads: number): FitsneResult {
  const maxIter = 750;
  const perplexity = 30;
  const nTrees = 50;
  const ints = (...values: number[]) => Buffer.from(Int32Array.from(values).buffer);
  const doubles = (...values: number[]) => Buffer.from(Float64Array.from(values).buffer);
  const start = pcaInit(X, n, d);
  let sumSq = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += start[2 * i] / n;
  for (let i = 0; i < n; i++) sumSq += (start[2 * i] - mean) ** 2;
  const scale = 1e-4 / Math.sqrt(sumSq / n);
  const init = start.map((v) => v * scale);
  const input = Buffer.concat([
    ints(n, d),
    doubles(0.5, perplexity),
    ints(2, maxIter, 250, 250),
    doubles(0.5, 0.8, Math.max(200, n / 12), 5),
    ints(-1),
    doubles(-1),
    ints(2, 1), // nbody_algo FFT, knn_algo annoy
    doubles(12),
    ints(0, nTrees, 3 * perplexity * nTrees, -1),
    doubles(-1),
    ints(3),
    doubles(1),
    ints(50),
    Buffer.from(Float64Array.from(X).buffer),
    ints(-1),
    doubles(1),
    ints(0),
    Buffer.from(init.buffer),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'fitsne-'));
  try {
    writeFileSync(join(dir, 'in.dat'), input);
    const started = performance.now();
    execFileSync(binary, ['1.2.1', join(dir, 'in.dat'), join(dir, 'out.dat'), String(threads)], { stdio: 'ignore' });
    const seconds = (performance.now() - started) / 1000;
    const out = readFileSync(join(dir, 'out.dat'));
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const rows = view.getInt32(0, true);
    const dims = view.getInt32(4, true);
    const positions = new Float64Array(rows * dims);
    for (let t = 0; t < rows * dims; t++) positions[t] = view.getFloat64(8 + 8 * t, true);
    const lossAt = 8 + 8 * rows * dims + 4;
    let kl = NaN;
    for (let it = maxIter; it >= 1 && Number.isNaN(kl); it--) {
      if (it % 50 === 0) kl = view.getFloat64(lossAt + 8 * (it - 1), true);
    }
    return { positions, kl, iterations: maxIter, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
