/**
 * Benchmark of the t-SNE engine (issues 5 and 23):
 *   npm run bench:tsne [-- --sizes 2000,10000,60000] [--embeddings PREV,NEXT] [--threads T] [--fitsne BIN]
 *                      [--json] [--no-chain] [--repulsion]
 *
 * Per N: a cold frame (PCA init, early exaggeration) and a warm frame (from the previous frame's
 * layout), each with seconds (affinities included), iterations, KL and 10-NN preservation
 * against the exact input-space neighbours, and the recall of the approximate neighbour search
 * where it was used. N = 2,000 uses the shared CIFAR-10 frames 08 → 09. Larger N use
 * `--embeddings PREV,NEXT`: two checkpoints' embeddings of the same images in the same order, each
 * a TSV (a projector `tensors.tsv`) or raw little-endian float32 rows (`.f32`), 128 columns; a
 * size with more points than the files hold is reported as not measured. Without
 * `--embeddings`, those sizes use a synthetic clustered set (labelled so). Then, on the shared
 * frames chained 00 → 09 as the watcher runs them, warm vs cold means.
 * Frames run as in the watcher's t-SNE worker, on helper threads kept from frame to frame
 * (`KeptThreads`: from 500 points; started by a frame that is not timed).
 * Exact neighbours for the quality measures are computed up to `--exact-max` points (30,000).
 * `--fitsne BIN` adds a cold run of a FIt-SNE binary on the same embeddings (./fitsne.ts), as
 * many threads; its time is the whole process, ours the frame (affinities included).
 *
 * `--repulsion` prints only the cost of one repulsion evaluation per N instead: Barnes-Hut
 * (θ = 0.5, tree build included) against the FFT interpolation (its grid side S), best of 4, on
 * the layout after the early phase (250 iterations at exaggeration 12) and after 300 more normal
 * ones, and which of them 'auto' picks on `--threads` threads (what gradient.ts's cost model
 * was fitted to).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { alignFrame } from '../src/align/index.ts';
import {
  APPROXIMATE_KNN_FROM,
  clusteredData,
  COLD_SCHEDULE,
  computeAffinities,
  DEFAULT_THETA,
  FftRepulsion,
  pcaInit,
  TSNEEmbedding,
  displacement,
  exactKnn,
  knnPreservationFromNeighbors,
  normalPhaseLearningRate,
  knnRecall,
  KeptThreads,
  tsneFrame,
  type FrameResult,
  resolveNeighborSearch,
  type Neighbors,
} from '../src/tsne/index.ts';
import { createGaussian } from '../src/util/random.ts';
import { cheaperRepulsion } from '../src/tsne/gradient.ts';
import { rescale } from '../src/tsne/init.ts';
import { layoutExtent } from '../src/tsne/interpolation.ts';
import { QuadTree } from '../src/tsne/quadtree.ts';
import { runFitsne } from './fitsne.ts';
import { parseNumberTable } from '../src/util/tsv.ts';
import { parseScriptArgs } from './script-args.ts';

const FIXTURES = process.env.EMBEDDING_FIXTURES ?? join(import.meta.dirname, '../../shared/fixtures/embeddings');
const { values } = parseScriptArgs('bench:tsne', import.meta.url, {
  sizes: { type: 'string', default: '2000,10000,60000' },
  embeddings: { type: 'string' },
  threads: { type: 'string', default: String(availableParallelism()) },
  'exact-max': { type: 'string', default: '30000' },
  fitsne: { type: 'string' },
  json: { type: 'boolean', default: false },
  'no-chain': { type: 'boolean', default: false },
  repulsion: { type: 'boolean', default: false },
});
const json = values.json;
const sizes = values.sizes.split(',').map(Number);
const chain = !values['no-chain'];
const threads = Number(values.threads);
const exactMax = Number(values['exact-max']);
const embeddingFiles = values.embeddings?.split(',');
const fitsne = values.fitsne;
const D = 128;

function readRows(path: string): Float32Array {
  if (path.endsWith('.f32')) {
    const bytes = readFileSync(path);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  const table = parseNumberTable(readFileSync(path, 'utf8'), path);
  if (table.cols !== D) throw new Error(`${path}: ${table.cols} columns, expected ${D}`);
  return Float32Array.from(table.data);
}

const readFrame = (index: number) => readRows(join(FIXTURES, `frame_${String(index).padStart(2, '0')}.tsv`));
const real = embeddingFiles?.map(readRows);

function emit(record: Record<string, unknown>, line: string): void {
  console.log(json ? JSON.stringify(record) : line);
}

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

/** Two consecutive frames of N points, or why there are none. */
function framePair(n: number): { previous: Float32Array; next: Float32Array; source: string } | string {
  if (n <= 2000) {
    return {
      previous: readFrame(8).subarray(0, n * D),
      next: readFrame(9).subarray(0, n * D),
      source: `shared frames 08→09`,
    };
  }
  if (real !== undefined) {
    const rows = Math.min(real[0].length, real[1].length) / D;
    if (rows < n) return `not measured: --embeddings hold ${rows} rows`;
    return { previous: real[0].subarray(0, n * D), next: real[1].subarray(0, n * D), source: 'real (--embeddings)' };
  }
  const { X } = clusteredData(n, D, 10, 1, 4, 6);
  const noise = createGaussian(2);
  return { previous: X, next: X.map((v) => v + 0.3 * noise()), source: 'SYNTHETIC clusters (no --embeddings)' };
}

/** Quality against exact neighbours (when affordable), and the recall of the search the frame used. */
function measure(r: FrameResult, exact: Neighbors | undefined, used: Neighbors, approximate: boolean) {
  return {
    seconds: r.seconds,
    iterations: r.iterations,
    kl: r.kl,
    knnPreservation: exact ? knnPreservationFromNeighbors(exact, r.positions, 10) : NaN,
    threads: r.threads,
    fftIterations: r.repulsionCounts.fft,
    recall90: exact && approximate ? knnRecall(used, exact, r.positions.length / 2) : NaN,
  };
}

/** Best-of-4 milliseconds of one repulsion evaluation by each method, on layouts of the real run. */
function benchRepulsion(): void {
  if (!json) console.log('N       layout       extent  grid S  Barnes-Hut ms  FFT ms  auto (threads: ' + threads + ')');
  for (const n of sizes) {
    const pair = framePair(n);
    if (typeof pair === 'string') {
      emit({ bench: 'tsne-repulsion', n, skipped: pair }, `${String(n).padEnd(7)} ${pair}`);
      continue;
    }
    const P = computeAffinities(pair.next, n, D, { seed: 0 });
    const embedding = new TSNEEmbedding(
      rescale(pcaInit(pair.next, n, D), 1e-4, () => 0),
      P,
    );
    const tree = new QuadTree();
    const interpolation = new FftRepulsion();
    const forces = new Float64Array(2 * n);
    const best = (run: () => void) => {
      run();
      let fastest = Infinity;
      for (let rep = 0; rep < 4; rep++) {
        const started = performance.now();
        run();
        fastest = Math.min(fastest, performance.now() - started);
      }
      return fastest;
    };
    // The cold schedule's two phases, so the layouts are those a frame's iterations see.
    const early = COLD_SCHEDULE.exaggerationIterations;
    for (const [layout, phase] of [
      [
        `early (${early})`,
        { iterations: early, exaggeration: COLD_SCHEDULE.exaggeration, momentum: COLD_SCHEDULE.exaggerationMomentum },
      ],
      [
        'normal (+300)',
        { iterations: 300, momentum: COLD_SCHEDULE.momentum, learningRate: normalPhaseLearningRate(n) },
      ],
    ] as const) {
      embedding.optimize(phase);
      const Y = embedding.positions;
      const { extent } = layoutExtent(Y, n);
      const grid = interpolation.gridSize(extent);
      const barnesHut = best(() => {
        tree.build(Y, n);
        tree.repulsion(DEFAULT_THETA, forces);
      });
      const fft = best(() => interpolation.repulsion(Y, n, forces));
      const auto = cheaperRepulsion(n, P.rowPtr[n], grid, threads);
      emit(
        { bench: 'tsne-repulsion', n, layout, extent, grid, barnesHutMs: barnesHut, fftMs: fft, auto, threads },
        `${String(n).padEnd(7)} ${layout.padEnd(12)} ${fmt(extent, 1).padStart(6)}  ${String(grid).padStart(6)}  ` +
          `${fmt(barnesHut, 1).padStart(13)}  ${fmt(fft, 1).padStart(6)}  ${auto}`,
      );
    }
  }
}

if (values.repulsion) {
  benchRepulsion();
  process.exit(0);
}

if (!json) {
  console.log(
    `threads: ${threads} (of ${availableParallelism()} cores); approximate neighbours from N = ${APPROXIMATE_KNN_FROM}`,
  );
  console.log(
    'N       source                              run    seconds  iterations  KL      10-NN   recall(90-NN)  ' +
      'FFT iterations',
  );
}
/** The helpers of every frame below, as the watcher's t-SNE worker keeps them. */
const kept = new KeptThreads();
for (const n of sizes) {
  const pair = framePair(n);
  if (typeof pair === 'string') {
    emit({ bench: 'tsne', n, skipped: pair }, `${String(n).padEnd(7)} ${pair}`);
    continue;
  }
  const { previous, next, source } = pair;
  const exact = n <= exactMax ? exactKnn(next, n, D, 90) : undefined;
  // The neighbours a frame of `next` uses (same seed): what the recall is measured on.
  const used = computeAffinities(next, n, D, { seed: 0 }).neighbors;
  const first = tsneFrame(previous, n, D, { seed: 0, threads }, kept);
  const runs = {
    cold: tsneFrame(next, n, D, { seed: 0, threads }, kept),
    warm: tsneFrame(next, n, D, { seed: 0, threads, init: first.positions }, kept),
  };
  const measured = Object.entries(runs).map(([mode, r]) => ({
    mode,
    m: measure(r, exact, used, resolveNeighborSearch(undefined, n) === 'approximate'),
  }));
  if (fitsne !== undefined) {
    const f = runFitsne(fitsne, next, n, D, threads);
    measured.push({
      mode: 'FIt-SNE',
      m: {
        seconds: f.seconds,
        iterations: f.iterations,
        kl: f.kl,
        knnPreservation: exact ? knnPreservationFromNeighbors(exact, f.positions, 10) : NaN,
        threads,
        fftIterations: NaN,
        recall90: NaN,
      },
    });
  }
  for (const { mode, m } of measured) {
    emit(
      { bench: 'tsne', n, source, mode, ...m },
      `${String(n).padEnd(7)} ${source.padEnd(35)} ${mode.padEnd(6)} ${fmt(m.seconds, 2).padStart(7)}  ` +
        `${String(m.iterations).padStart(10)}  ${fmt(m.kl)}   ${fmt(m.knnPreservation)}   ${fmt(m.recall90, 4)}` +
        `         ${fmt(m.fftIterations, 0).padStart(6)}`,
    );
  }
}

if (chain) {
  const frames = Array.from({ length: 10 }, (_, f) => readFrame(f));
  const n = frames[0].length / D;
  if (!json)
    console.log(
      `\nshared frames 00→09 chained (${n} points), means over frames 01–09:\nmode    KL      10-NN    displacement ` +
        ` s/frame  iterations`,
    );
  for (const mode of ['cold', 'warm'] as const) {
    let previous: Float64Array | undefined;
    const sum = { kl: 0, knn: 0, displacement: 0, seconds: 0, iterations: 0 };
    const perFrame: number[] = [];
    for (let f = 0; f < frames.length; f++) {
      const init = mode === 'warm' ? previous : undefined;
      const r = tsneFrame(frames[f], n, D, { seed: 0, init, threads }, kept);
      const aligned = previous ? alignFrame(r.positions, previous) : r.positions;
      if (previous) {
        const moved = displacement(aligned, previous);
        perFrame.push(moved);
        sum.kl += r.kl;
        sum.knn += r.knnPreservation;
        sum.displacement += moved;
        sum.seconds += r.seconds;
        sum.iterations += r.iterations;
      }
      previous = aligned;
    }
    const steps = frames.length - 1;
    emit(
      {
        bench: 'tsne-chain',
        mode,
        n,
        kl: sum.kl / steps,
        knnPreservation: sum.knn / steps,
        displacement: sum.displacement / steps,
        secondsPerFrame: sum.seconds / steps,
        iterations: sum.iterations / steps,
        displacementPerStep: perFrame,
      },
      `${mode.padEnd(7)} ${fmt(sum.kl / steps)}   ${fmt(sum.knn / steps)}    ` +
        `${fmt(sum.displacement / steps).padStart(12)}  ${fmt(sum.seconds / steps, 2).padStart(7)}  ` +
        `${String(Math.round(sum.iterations / steps)).padStart(10)}   (per step: ` +
        `${perFrame.map((x) => fmt(x, 2)).join(' ')})`,
    );
  }
}

kept.close();
