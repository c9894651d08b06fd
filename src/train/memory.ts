/**
 * Whether a model can be trained at all in the memory there is, checked before it is built: a
 * model too big for the backend otherwise fails deep inside tfjs ("memory access out of
 * bounds" on wasm) after minutes of building. The estimate is the floor: every parameter is
 * held four times (the weight, its gradient, Adam's two moments), as float32.
 */
import { totalmem } from 'node:os';
import { UserError } from '../errors.ts';
import type { ModelOptions } from '../model/resnet.ts';

/** The most a WebAssembly memory (wasm32) can hold. */
const WASM_MEMORY_BYTES = 4 * 1024 ** 3;

/** Copies of each parameter while training: weight, gradient, Adam's first and second moments. */
const COPIES_WHILE_TRAINING = 4;

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

/** The number of parameters of a ResNet with these options (the shapes of `expectedWeightShapes`, counted). */
export function parameterCount(options: ModelOptions): number {
  const batchNorm = (channels: number) => 4 * channels;
  let count = 7 * 7 * 3 * options.stemChannels + batchNorm(options.stemChannels);
  let channels = options.stemChannels;
  options.blocks.forEach((blocks, stage) => {
    if (blocks === 0) return;
    const width = options.widths[stage]!;
    const block = (input: number) => 9 * input * width + 9 * width * width + 2 * batchNorm(width);
    const shortcut = stage > 0 || channels !== width ? channels * width : 0;
    count += block(channels) + shortcut + (blocks - 1) * block(width);
    channels = width;
  });
  return count + options.embeddingSize * options.numClasses + options.numClasses;
}

/** Throws a one-line `UserError` when training `options` on `backend` cannot fit in memory. */
export function checkModelFits(options: ModelOptions, backend: string): void {
  const parameters = parameterCount(options);
  const needed = parameters * 4 * COPIES_WHILE_TRAINING;
  const [limit, what] =
    backend === 'wasm' ? [WASM_MEMORY_BYTES, "the wasm backend's memory"] : [totalmem(), "this machine's memory"];
  if (needed <= limit) return;
  throw new UserError(
    `out of memory: a ResNet with --blocks ${options.blocks.join(',')} and widths ${options.widths.join(',')} has ` +
      `${parameters.toLocaleString('en-US')} parameters; training needs at least ${gb(needed)} for them ` +
      `(weights, gradients, Adam's moments), more than ${what} (${gb(limit)}); use fewer --blocks or narrower --widths`,
  );
}
