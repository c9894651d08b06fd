/**
 * Picks and starts the tfjs backend: `initBackend('auto')` takes native TensorFlow (tfjs-node-gpu,
 * tfjs-node) when installed, else a GPU through WebGPU (Dawn), else wasm; it registers the
 * project's own kernels and logs one line saying what it chose and why.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' Node bundle registers all of
// core's (its ESM dist cannot be imported by Node), so importing it is what makes training work.
import '@tensorflow/tfjs-layers';
import { chooseBackend, type BackendChoice, type BackendChoiceResult, type Probes } from './choose.ts';
import { realProbes } from './probes.ts';
import { registerGradients } from './gradients/register.ts';

export { BACKEND_CHOICES, AUTO_ORDER, chooseBackend, parseBackendChoice } from './choose.ts';
export type { BackendChoice, BackendChoiceResult, ConcreteBackend, ProbeResult, Probes } from './choose.ts';
export { registerWasmKernels } from './kernels/register.ts';

export interface InitBackendOptions {
  /** Where the one line about the choice goes; default: stderr. */
  log?: (line: string) => void;
  /** Replaces the real probes (tests). */
  probes?: Probes;
  /** Show what Dawn prints while looking for a GPU (shown anyway for an explicit webgpu). */
  verbose?: boolean;
}

let current: { choice: BackendChoice; result: BackendChoiceResult } | undefined;

export async function initBackend(
  choice: BackendChoice = 'auto',
  options: InitBackendOptions = {},
): Promise<BackendChoiceResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  // Called again with the same choice (train, then the embedder in one process): keep it.
  if (options.probes === undefined && current?.choice === choice && tf.getBackend() === current.result.name) {
    return current.result;
  }
  registerGradients();
  const result = await chooseBackend(choice, options.probes ?? realProbes(choice === 'webgpu', options.verbose));
  if (options.probes === undefined) current = { choice, result };
  log(`backend: ${result.name}: ${result.reason}`);
  return result;
}
