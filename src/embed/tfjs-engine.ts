/**
 * The tfjs engine, on whatever backend `initBackend` chose. By default it runs the folded
 * inference graph (batch norm folded into fused conv + bias + ReLU kernels,
 * `src/model/inference-graph.ts`); `graph: 'layers'` runs the checkpoint's LayersModel in
 * inference mode instead (the reference the others are compared with, and a benchmark row).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpointModel, readCheckpointMeta, readCheckpointWeights } from '../model/checkpoint.ts';
import { foldResNet, type FoldedResNet } from '../model/fold.ts';
import { FoldedInferenceGraph } from '../model/inference-graph.ts';
import { predictLogitsAndEmbedding } from '../model/resnet.ts';
import { DEFAULT_BATCH_SIZE, embedInBatches, type Embedder, type EmbedResult } from './types.ts';

export type TfjsGraph = 'folded' | 'layers';

export interface TfjsEmbedderOptions {
  graph?: TfjsGraph;
  batchSize?: number;
  reason: string;
}

type Forward = (images: tf.Tensor4D) => [tf.Tensor2D, tf.Tensor2D];

interface LoadedModel {
  forward: Forward;
  sizes: { embeddingSize: number; numClasses: number };
  dispose(): void;
}

export class TfjsEmbedder implements Embedder {
  readonly name: string;
  readonly reason: string;
  private readonly graph: TfjsGraph;
  private readonly batchSize: number;
  private model: LoadedModel | undefined;

  constructor(options: TfjsEmbedderOptions) {
    this.graph = options.graph ?? 'folded';
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.name = `tfjs-${tf.getBackend()}${this.graph === 'layers' ? '-layers' : ''}`;
    this.reason = options.reason;
  }

  async load(checkpointDir: string): Promise<void> {
    const meta = await readCheckpointMeta(checkpointDir);
    const loaded =
      this.graph === 'folded'
        ? foldedModel(foldResNet(await readCheckpointWeights(checkpointDir), meta.model, checkpointDir))
        : await layersModel(checkpointDir, {
            embeddingSize: meta.model.embeddingSize,
            numClasses: meta.model.numClasses,
          });
    this.model?.dispose();
    this.model = loaded;
  }

  /** Uses an already folded network (tests and the benchmark skip the checkpoint files). */
  loadFolded(net: FoldedResNet): void {
    const loaded = foldedModel(net);
    this.model?.dispose();
    this.model = loaded;
  }

  async embed(input: Float32Array, n: number): Promise<EmbedResult> {
    const model = this.model;
    if (!model) throw new Error('embed() before load(): load a checkpoint first');
    return embedInBatches(input, n, this.batchSize, model.sizes, async (batch, count) => {
      const images = tf.tensor4d(batch, [count, 32, 32, 3]);
      const [logits, embedding] = model.forward(images);
      try {
        const [e, l] = await Promise.all([embedding.data(), logits.data()]);
        return { embeddings: e as Float32Array, logits: l as Float32Array };
      } finally {
        tf.dispose([images, logits, embedding]);
      }
    });
  }

  async dispose(): Promise<void> {
    this.model?.dispose();
    this.model = undefined;
  }
}

function foldedModel(net: FoldedResNet): LoadedModel {
  const graph = new FoldedInferenceGraph(net);
  return {
    forward: (images) => {
      const out = graph.predict(images);
      return [out.logits, out.embedding];
    },
    sizes: { embeddingSize: net.embeddingSize, numClasses: net.numClasses },
    dispose: () => graph.dispose(),
  };
}

async function layersModel(dir: string, sizes: LoadedModel['sizes']): Promise<LoadedModel> {
  const model = await loadCheckpointModel(dir);
  return {
    forward: (images) => predictLogitsAndEmbedding(model, images),
    sizes,
    dispose: () => model.dispose(),
  };
}
