/**
 * The ONNX Runtime engine: each checkpoint is exported to ONNX in memory (batch norm folded,
 * `src/model/onnx.ts`) and run by `onnxruntime-node`'s CPU runtime, which ships inside the npm
 * package. Sessions use every graph optimisation (ONNX Runtime fuses conv + bias + add + ReLU
 * into its blocked NCHWc kernels) and `threads` intra-op threads; runs happen on ORT's threads,
 * so the event loop stays free while a batch is computed.
 */
import type * as Ort from 'onnxruntime-node';
import { UserError } from '../errors.ts';
import { buildProbeModel, exportCheckpointToOnnx, EMBEDDING_NAME, INPUT_NAME, LOGITS_NAME } from '../model/onnx.ts';
import { DEFAULT_BATCH_SIZE, embedInBatches, type Embedder, type EmbedResult } from './types.ts';

type OrtModule = typeof Ort;

export type OrtProbe = { available: true; ort: OrtModule; version: string } | { available: false; why: string };

let probed: Promise<OrtProbe> | undefined;

/**
 * Can this process run ONNX Runtime? Loads the native binding and creates a one-node session
 * (a few milliseconds); the answer is kept for the life of the process.
 */
export function probeOnnxRuntime(): Promise<OrtProbe> {
  probed ??= (async (): Promise<OrtProbe> => {
    let ort: OrtModule;
    try {
      ort = (await import('onnxruntime-node')) as OrtModule;
    } catch (error) {
      return { available: false, why: `onnxruntime-node did not load (${firstLine(error)})` };
    }
    try {
      const session = await ort.InferenceSession.create(buildProbeModel());
      await session.release();
    } catch (error) {
      return { available: false, why: `onnxruntime-node loaded but cannot run a model (${firstLine(error)})` };
    }
    const version = ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown version';
    return { available: true, ort, version };
  })();
  return probed;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error)
    .split('\n')[0]!
    .trim();
}

export interface OnnxEmbedderOptions {
  threads: number;
  /**
   * Let idle ONNX Runtime threads spin for the next piece of work (ORT's default, fastest on an
   * otherwise idle machine). Turn it off beside the trainer: spinning threads take CPU time the
   * trainer needs and, on an oversubscribed machine, slow ORT itself down.
   */
  spinWait?: boolean;
  batchSize?: number;
  reason: string;
}

export class OnnxEmbedder implements Embedder {
  readonly name = 'onnxruntime';
  readonly reason: string;
  private session: Ort.InferenceSession | undefined;
  private sizes = { embeddingSize: 0, numClasses: 0 };
  private readonly batchSize: number;

  constructor(
    private readonly ort: OrtModule,
    private readonly options: OnnxEmbedderOptions,
  ) {
    this.reason = options.reason;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  }

  /** Session options: what makes the exported graph as fast as PyTorch's export. */
  sessionOptions(): Ort.InferenceSession.SessionOptions {
    return {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      ...(this.options.spinWait === false
        ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }
        : {}),
    };
  }

  async load(checkpointDir: string): Promise<void> {
    const exported = await exportCheckpointToOnnx(checkpointDir);
    await this.loadModel(exported.bytes, {
      embeddingSize: exported.net.embeddingSize,
      numClasses: exported.net.numClasses,
    });
  }

  /** Loads an already exported model (the benchmark times export and session creation apart). */
  async loadModel(bytes: Uint8Array, sizes: { embeddingSize: number; numClasses: number }): Promise<void> {
    let session: Ort.InferenceSession;
    try {
      session = await this.ort.InferenceSession.create(bytes, this.sessionOptions());
    } catch (error) {
      throw new UserError(
        `ONNX Runtime rejected the exported model: ${firstLine(error)}; run with --inference tfjs and report this`,
      );
    }
    await this.release();
    this.session = session;
    this.sizes = sizes;
  }

  async embed(input: Float32Array, n: number): Promise<EmbedResult> {
    const session = this.session;
    if (!session) throw new Error('embed() before load(): load a checkpoint first');
    return embedInBatches(input, n, this.batchSize, this.sizes, async (batch, count) => {
      const images = new this.ort.Tensor('float32', batch, [count, 32, 32, 3]);
      const out = await session.run({ [INPUT_NAME]: images });
      // CPU outputs are plain typed arrays owned by JS: nothing to release.
      return { embeddings: out[EMBEDDING_NAME]!.data as Float32Array, logits: out[LOGITS_NAME]!.data as Float32Array };
    });
  }

  private async release(): Promise<void> {
    const old = this.session;
    this.session = undefined;
    if (old) await old.release();
  }

  async dispose(): Promise<void> {
    await this.release();
  }
}
