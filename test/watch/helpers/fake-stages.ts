/**
 * Stages for testing the daemon without a model: a "checkpoint" is a directory with a real
 * checkpoint.json whose `data.frame` names one of the fixture frames (real 128-d embeddings of a
 * real training run, ../shared/fixtures/embeddings/); "t-SNE" is a cheap deterministic
 * projection blended with the previous frame. Everything around the stages is the real code.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { alignFrame, normalizeFrame } from '../../../src/align/index.ts';
import { readCheckpointMeta } from '../../../src/model/index.ts';
import type { FrameStages, ValidationSet } from '../../../src/watch/stages.ts';

export const FIXTURES = new URL('../../../../shared/fixtures/embeddings/', import.meta.url).pathname;
export const CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const frameCache = new Map<number, Float32Array>();

/** Fixture frame k (0–9): 2,000 × 128. */
export function fixtureFrame(k: number): Float32Array {
  let frame = frameCache.get(k);
  if (!frame) {
    const text = readFileSync(join(FIXTURES, `frame_${String(k).padStart(2, '0')}.tsv`), 'utf8');
    frame = Float32Array.from(text.trim().split(/\s+/).map(Number));
    frameCache.set(k, frame);
  }
  return frame;
}

export function fixtureLabels(): Uint8Array {
  return Uint8Array.from(readFileSync(join(FIXTURES, 'labels.tsv'), 'utf8').trim().split('\n').map(Number));
}

/** A fake checkpoint's checkpoint.json: real metadata whose `data.frame` names a fixture frame. */
export function fakeCheckpointMeta(
  step: number,
  frame: number,
  options: { accuracy?: number; blocks?: number[] } = {},
): Record<string, unknown> {
  return {
    format: 1,
    step,
    epoch: 0,
    samplesSeen: step,
    iterations: 1,
    time: new Date(0).toISOString(),
    model: {
      blocks: options.blocks ?? [1, 1, 1],
      widths: [32, 64, 128],
      stemChannels: 32,
      embeddingSize: 128,
      numClasses: 10,
    },
    data: { frame },
    seed: 0,
    validationAccuracy: options.accuracy ?? 0.1 + frame * 0.04,
  };
}

/** Writes a complete checkpoint the way the trainer does: hidden directory, then rename. */
export async function writeFakeCheckpoint(
  logdir: string,
  run: string,
  step: number,
  frame: number,
  options: { corrupt?: boolean; accuracy?: number; blocks?: number[] } = {},
): Promise<string> {
  const checkpoints = join(logdir, run, 'checkpoints');
  const name = `step-${String(step).padStart(9, '0')}`;
  const hidden = join(checkpoints, `.${name}.tmp`);
  await rm(hidden, { recursive: true, force: true });
  await mkdir(hidden, { recursive: true });
  const meta = fakeCheckpointMeta(step, frame, options);
  await writeFile(join(hidden, 'checkpoint.json'), options.corrupt ? '{"format": 1, "step": ' : JSON.stringify(meta));
  await rename(hidden, join(checkpoints, name));
  return join(checkpoints, name);
}

/** Only a half-built checkpoint: its hidden directory, as a trainer killed mid-save leaves it. */
export async function writeHalfCheckpoint(logdir: string, run: string, step: number): Promise<void> {
  const hidden = join(logdir, run, 'checkpoints', `.step-${String(step).padStart(9, '0')}.tmp`);
  await mkdir(hidden, { recursive: true });
  await writeFile(join(hidden, 'model.json'), '{');
}

export interface FakeStageLog {
  loaded: string[];
  inits: (Float64Array | null)[];
}

/** `pixelOffset` changes every pixel of the validation images: other data of the same size. */
export function fakeStages(log: FakeStageLog = { loaded: [], inits: [] }, { pixelOffset = 0 } = {}): FrameStages {
  let current = -1;
  return {
    async validation(size: number): Promise<ValidationSet> {
      const labels = fixtureLabels().subarray(0, size);
      const images = new Uint8Array(size * 32 * 32 * 3);
      for (let i = 0; i < images.length; i++) images[i] = (i * 7 + (i >> 12) + pixelOffset) & 255;
      return {
        images,
        labels: Uint8Array.from(labels),
        testIndices: Int32Array.from(labels, (_, i) => i * 5),
        classNames: CLASS_NAMES,
        count: size,
      };
    },
    async load(dir) {
      const meta = await readCheckpointMeta(dir);
      log.loaded.push(dir);
      current = Number((meta.data as { frame: number }).frame);
      return { step: meta.step, validationAccuracy: meta.validationAccuracy };
    },
    async embed(validation) {
      const all = fixtureFrame(current);
      return { embeddings: all.slice(0, validation.count * 128), dim: 128 };
    },
    async project(embedded, count, init) {
      log.inits.push(init ? Float64Array.from(init) : null);
      // Two fixed mixtures of the 128 coordinates, standing in for t-SNE; pulled towards the
      // previous frame like a warm start.
      const Y = new Float64Array(2 * count);
      for (let i = 0; i < count; i++) {
        let a = 0;
        let b = 0;
        for (let j = 0; j < embedded.dim; j++) {
          const v = embedded.embeddings[i * embedded.dim + j]!;
          a += v * Math.sin(j + 1);
          b += v * Math.cos(3 * j + 1);
        }
        Y[2 * i] = a;
        Y[2 * i + 1] = b;
      }
      const positions = normalizeFrame(Y);
      if (init) for (let k = 0; k < positions.length; k++) positions[k] = 0.5 * positions[k]! + 0.5 * init[k]!;
      return { positions: normalizeFrame(positions), klDivergence: 1 + current / 10 };
    },
    align: (positions, previous) => alignFrame(positions, previous),
    measure(_embedded, count, positions, previous) {
      let moved = 0;
      if (previous)
        for (let i = 0; i < count; i++)
          moved += Math.hypot(positions[2 * i]! - previous[2 * i]!, positions[2 * i + 1]! - previous[2 * i + 1]!);
      return { knnPreservation: 0.5, neighborhoodHit: 0.4, displacement: previous ? moved / count : 0 };
    },
    async dispose() {},
  };
}
