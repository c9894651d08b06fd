/**
 * The watcher's forward pass: checkpoint in, embeddings and logits out.
 *
 *   createEmbedder({ engine: 'auto' })  tfjs on webgpu when a hardware GPU adapter exists, else
 *                                       ONNX Runtime when it loads on this machine, else tfjs
 *   createEmbedder({ engine: 'onnx' })  ONNX Runtime or a clear error
 *   createEmbedder({ engine: 'tfjs' })  tfjs on `backend` (folded inference graph)
 *
 * It logs one line saying which engine and why. `threads` (ONNX Runtime's intra-op threads)
 * defaults to every core; give fewer (`--inference-threads`) when the trainer runs beside it.
 */
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.ts';
import type { BackendChoice } from '../backend/index.ts';
import { OnnxEmbedder, probeOnnxRuntime, type OrtProbe } from './onnx-engine.ts';
import type { TfjsGraph } from './tfjs-engine.ts';
import type { Embedder } from './types.ts';

export type { Embedder, EmbedResult } from './types.ts';
export type { TfjsGraph } from './tfjs-engine.ts';
export { OnnxEmbedder, probeOnnxRuntime, type OrtProbe } from './onnx-engine.ts';

const INFERENCE_ENGINES = ['auto', 'onnx', 'tfjs'] as const;
export type InferenceEngine = (typeof INFERENCE_ENGINES)[number];

export interface EmbedderOptions {
  engine?: InferenceEngine;
  /** ONNX Runtime intra-op threads; default: all cores (`os.availableParallelism()`). */
  threads?: number;
  /** tfjs backend for the tfjs engine (see `src/backend/`); default 'auto'. */
  backend?: BackendChoice;
  /** Where the one line about the choice goes; default: stderr. */
  log?: (line: string) => void;
  /**
   * ONNX Runtime only: idle threads spin-wait for work (default true, fastest when the watcher
   * runs alone). Pass false beside the trainer, so waiting threads give their CPU back.
   */
  spinWait?: boolean;
  /** Images per forward pass (default 256). */
  batchSize?: number;
  /** tfjs engine only: the folded inference graph (default) or the LayersModel. */
  tfjsGraph?: TfjsGraph;
  /** Replaces the check that onnxruntime-node loads (tests of the fallback). */
  probeOnnx?: () => Promise<OrtProbe>;
  /** Replaces the check for a hardware GPU adapter (tests); auto never takes a software one. */
  probeGpu?: () => Promise<GpuProbe>;
}

/** Parses `--inference`. */
export function parseInferenceEngine(value: string | undefined, fallback: InferenceEngine = 'auto'): InferenceEngine {
  if (value === undefined) return fallback;
  if ((INFERENCE_ENGINES as readonly string[]).includes(value)) return value as InferenceEngine;
  throw new UserError(
    `--inference must be ${INFERENCE_ENGINES.slice(0, -1).join(', ')} or ` +
      `${INFERENCE_ENGINES.at(-1)}, got '${value}'`,
  );
}

/** Whether a hardware GPU adapter exists (SwiftShader and other software adapters do not count). */
export type GpuProbe = { available: true; detail: string } | { available: false; why: string };

async function probeHardwareGpu(): Promise<GpuProbe> {
  const { probeWebGpu } = await import('../backend/probes.ts');
  const found = await probeWebGpu(false);
  return found.available ? { available: true, detail: found.detail } : { available: false, why: found.why };
}

export async function createEmbedder(options: EmbedderOptions = {}): Promise<Embedder> {
  const engine = options.engine ?? 'auto';
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1)
    throw new UserError(`inference threads must be a positive integer, got ${threads}`);

  let passedOver = '';
  // A GPU beats ONNX Runtime on the CPU by an order of magnitude at batch 256; auto takes it when
  // the tfjs backend may be webgpu (not when --backend names another one).
  const backendChoice = options.backend ?? 'auto';
  if (engine === 'auto' && (backendChoice === 'auto' || backendChoice === 'webgpu')) {
    const gpu = await (options.probeGpu ?? probeHardwareGpu)();
    // initBackend's own auto then takes webgpu too (or native TensorFlow, when installed).
    if (gpu.available) return createTfjsEmbedder(options, backendChoice, log, `auto: ${gpu.detail}`);
    passedOver = `; webgpu passed over: ${gpu.why}`;
  }
  if (engine !== 'tfjs') {
    const probe = await (options.probeOnnx ?? probeOnnxRuntime)();
    if (probe.available) {
      const how = engine === 'auto' ? `auto: it loads on this machine${passedOver}` : 'asked for with --inference onnx';
      const reason = `onnxruntime-node ${probe.version} (${how}), ${threads} thread${threads === 1 ? '' : 's'}`;
      log(`inference: ${reason}`);
      return new OnnxEmbedder(probe.ort, { threads, batchSize: options.batchSize, spinWait: options.spinWait, reason });
    }
    if (engine === 'onnx') {
      throw new UserError(
        `--inference onnx: ${probe.why}; reinstall onnxruntime-node for this platform or use --inference tfjs`,
      );
    }
    passedOver += `; ONNX Runtime passed over: ${probe.why}`;
  }
  const how = engine === 'auto' ? `auto${passedOver}` : 'asked for with --inference tfjs';
  return createTfjsEmbedder(options, backendChoice, log, how);
}

async function createTfjsEmbedder(
  options: EmbedderOptions,
  backendChoice: BackendChoice,
  log: (line: string) => void,
  how: string,
): Promise<Embedder> {
  // tfjs is loaded only when it is the engine: the ONNX path starts faster without it.
  const { initBackend } = await import('../backend/index.ts');
  const { TfjsEmbedder } = await import('./tfjs-engine.ts');
  const backend = await initBackend(backendChoice, { log });
  const graph = options.tfjsGraph ?? 'folded';
  const reason = `tfjs on ${backend.name}, ${graph === 'folded' ? 'folded inference graph' : 'layers model'} (${how})`;
  log(`inference: ${reason}`);
  return new TfjsEmbedder({ graph, batchSize: options.batchSize, reason });
}
