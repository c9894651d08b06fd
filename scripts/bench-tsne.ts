/**
 * Benchmark of the t-SNE engine (issue 5): `npm run bench:tsne [-- --json] [-- --sizes 1000,2000]`.
 *
 * Per N: a cold frame (PCA init, early exaggeration) and a warm frame (continuing from the
 * previous frame's layout), with seconds, KL, 10-NN preservation. N = 1,000 and 2,000 use rows of
 * the shared CIFAR-10 frames (warm: frame_08 → frame_09); 5,000 and 10,000 use a reproducible
 * synthetic clustered 128-d set (10 clusters, each near its own random 6-d subspace, seed 1; its
 * "next frame" is the same set plus seeded noise),
 * because the shared frames have 2,000 rows. Then, on the shared frames chained 00 → 09 as the
 * watcher runs them, warm vs cold: mean KL, 10-NN preservation, displacement, seconds.
 * One thread; times are wall-clock and include the affinities.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alignFrame } from '../src/align/index.ts';
import { clusteredData, displacement, tsneFrame, type FrameResult, type Schedule } from '../src/tsne/index.ts';
import { createGaussian } from '../src/util/random.ts';
import { parseNumberTable } from '../src/util/tsv.ts';

const FIXTURES = process.env.EMBEDDING_FIXTURES ?? join(import.meta.dirname, '../../shared/fixtures/embeddings');
const args = process.argv.slice(2);
const json = args.includes('--json');
const sizesArg = valueOf('--sizes');
const sizes = sizesArg ? sizesArg.split(',').map(Number) : [1000, 2000, 5000, 10000];
const chain = !args.includes('--no-chain');
const scheduleArg = valueOf('--warm-schedule');
const warmSchedule: Partial<Schedule> | undefined = scheduleArg
  ? (JSON.parse(scheduleArg) as Partial<Schedule>)
  : undefined;
const D = 128;

function valueOf(flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

function readFrame(index: number): Float32Array {
  const path = join(FIXTURES, `frame_${String(index).padStart(2, '0')}.tsv`);
  const table = parseNumberTable(readFileSync(path, 'utf8'), path);
  if (table.cols !== D) throw new Error(`${path}: ${table.cols} columns, expected ${D}`);
  return Float32Array.from(table.data);
}

function emit(record: Record<string, unknown>, line: string): void {
  console.log(json ? JSON.stringify(record) : line);
}

const fmt = (x: number, digits = 3) => x.toFixed(digits);

/** Two consecutive "frames" of N points: shared rows for N ≤ 2,000, synthetic otherwise. */
function framePair(n: number): { previous: Float32Array; next: Float32Array; source: string } {
  if (n <= 2000) {
    return {
      previous: readFrame(8).subarray(0, n * D),
      next: readFrame(9).subarray(0, n * D),
      source: `shared frames 08→09, first ${n} rows`,
    };
  }
  const { X } = clusteredData(n, D, 10, 1, 4, 6);
  const noise = createGaussian(2);
  const next = X.map((v) => v + 0.3 * noise());
  return {
    previous: X,
    next,
    source: `synthetic: 10 clusters in 128-d, each near a random 6-d subspace, seed 1; next frame = + N(0, 0.3²) noise`,
  };
}

if (!json)
  console.log(
    'N       source                          cold s   cold KL  cold 10-NN  cold iters   warm s   warm KL  warm ' +
      '10-NN  warm iters',
  );
for (const n of sizes) {
  const { previous, next, source } = framePair(n);
  const first = tsneFrame(previous, n, D, { seed: 0 });
  const cold = tsneFrame(next, n, D, { seed: 0 });
  const warm: FrameResult = tsneFrame(next, n, D, { seed: 0, init: first.positions, schedule: warmSchedule });
  emit(
    { bench: 'tsne', n, source, cold: pick(cold), warm: pick(warm) },
    `${String(n).padEnd(7)} ${(n <= 2000 ? 'shared frames' : 'synthetic clusters').padEnd(31)} ` +
      `${fmt(cold.seconds, 2).padStart(6)}   ${fmt(cold.kl).padStart(7)}  ${fmt(cold.knnPreservation).padStart(10)} ` +
      ` ${String(cold.iterations).padStart(10)}   ${fmt(warm.seconds, 2).padStart(6)}   ` +
      `${fmt(warm.kl).padStart(7)}  ${fmt(warm.knnPreservation).padStart(10)}  ` +
      `${String(warm.iterations).padStart(10)}`,
  );
}

function pick(r: FrameResult) {
  return { seconds: r.seconds, kl: r.kl, knnPreservation: r.knnPreservation, iterations: r.iterations };
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
      const r = tsneFrame(frames[f], n, D, {
        seed: 0,
        init: mode === 'warm' ? previous : undefined,
        schedule: mode === 'warm' ? warmSchedule : undefined,
      });
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
