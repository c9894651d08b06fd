/**
 * The real per-frame stages: CIFAR-10 test images (data/), the checkpoint's model through ONNX
 * Runtime or tfjs (embed/), t-SNE in a worker thread (tsne/), Procrustes (align/). The daemon
 * only sees the `FrameStages` interface.
 */
import { availableParallelism } from 'node:os';
import { alignFrame } from '../align/index.ts';
import type { BackendChoice } from '../backend/index.ts';
import { ensureCifarSource, loadCifar10, stratifiedSubset, toModelInput } from '../data/index.ts';
import { createEmbedder } from '../embed/index.ts';
// checkpoint.ts, not the model/ barrel: that one loads tfjs, which the ONNX path does without.
import { readCheckpointMeta } from '../model/checkpoint.ts';
import { displacement, knnPreservation, neighborhoodHit } from '../tsne/index.ts';
import { TsneWorker } from '../tsne/worker.ts';
import type { FrameStages, ValidationSet } from './stages.ts';

export interface RealStageOptions {
  inference: 'auto' | 'onnx' | 'tfjs';
  /** Inference threads (default: the engine's choice). */
  threads?: number;
  /** t-SNE threads (default: every core). */
  tsneThreads?: number;
  /** tfjs backend, for the tfjs engine. */
  backend?: BackendChoice;
  /** CIFAR-10 location (`--data`); default `CIFAR10_PATH`, else the cache. */
  data?: string;
  log: (line: string) => void;
}

const IMAGE_BYTES = 32 * 32 * 3;

/** Each point's predicted class: the argmax of its logits. */
function argmaxClasses(logits: Float32Array, count: number, classes: number): Uint8Array {
  const predicted = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    predicted[i] = best;
  }
  return predicted;
}

function accuracyOf(predicted: Uint8Array, labels: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return labels.length === 0 ? 0 : correct / labels.length;
}

export async function createStages(options: RealStageOptions): Promise<FrameStages> {
  // createEmbedder logs one line saying which engine it chose and why.
  const embedder = await createEmbedder({
    engine: options.inference,
    threads: options.threads,
    backend: options.backend,
    log: options.log,
  });
  // The model's input for a set of images, made once per set.
  const inputs = new WeakMap<ValidationSet, Float32Array>();
  // One t-SNE thread for all frames (see TsneWorker): it ends with the stages. Frames run between
  // forward passes, not beside them: every core is free for t-SNE unless the caller keeps some
  // for something else (the demo's trainer). Its threads start now, not with the first frame.
  const tsneThreads = options.tsneThreads ?? availableParallelism();
  const tsneWorker = new TsneWorker();
  tsneWorker.warmUp(tsneThreads);

  return {
    async validation(size, seed): Promise<ValidationSet> {
      const source = await ensureCifarSource(options.data);
      const cifar = await loadCifar10(source, { splits: 'test', log: options.log });
      const testIndices = stratifiedSubset(cifar.test.labels, size, seed);
      const images = new Uint8Array(testIndices.length * IMAGE_BYTES);
      const labels = new Uint8Array(testIndices.length);
      testIndices.forEach((index, k) => {
        images.set(cifar.test.images.subarray(index * IMAGE_BYTES, (index + 1) * IMAGE_BYTES), k * IMAGE_BYTES);
        labels[k] = cifar.test.labels[index]!;
      });
      return { images, labels, testIndices, classNames: cifar.classNames, count: testIndices.length };
    },

    async load(checkpointDir) {
      const meta = await readCheckpointMeta(checkpointDir);
      await embedder.load(checkpointDir);
      return { step: meta.step, validationAccuracy: meta.validationAccuracy };
    },

    async embed(validation) {
      let input = inputs.get(validation);
      if (!input) {
        input = toModelInput(validation.images);
        inputs.set(validation, input);
      }
      const { embeddings, logits } = await embedder.embed(input, validation.count);
      const dim = embeddings.length / validation.count;
      const classes = logits ? logits.length / validation.count : 0;
      if (!logits || classes <= 1) return { embeddings, dim };
      const predictions = argmaxClasses(logits, validation.count, classes);
      return { embeddings, dim, predictions, subsetAccuracy: accuracyOf(predictions, validation.labels) };
    },

    async project(embedded, count, init, { seed, perplexity }) {
      const result = await tsneWorker.run(embedded.embeddings, count, embedded.dim, {
        init: init ?? undefined,
        seed,
        perplexity,
        threads: tsneThreads,
      });
      return { positions: result.positions, klDivergence: result.kl, knnPreservation: result.knnPreservation };
    },

    align: (positions, previous) => alignFrame(positions, previous),

    measure(embedded, count, positions, previous, labels, projected) {
      return {
        knnPreservation:
          projected.knnPreservation ?? knnPreservation(embedded.embeddings, count, embedded.dim, positions),
        neighborhoodHit: neighborhoodHit(positions, labels),
        displacement: previous ? displacement(positions, previous) : 0,
      };
    },

    async dispose() {
      await tsneWorker.close();
      await embedder.dispose();
    },
  };
}
