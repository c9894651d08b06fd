/**
 * Batch-norm folding: the inference-time ResNet without batch-norm layers.
 *
 * In inference mode a batch norm is a per-channel affine map, so it can be merged into the
 * convolution before it: with scale = gamma / sqrt(movingVariance + epsilon),
 *   W'[..., o] = W[..., o] · scale[o]      b'[o] = beta[o] − movingMean[o] · scale[o]
 * (plus scale[o] · b[o] when the convolution has its own bias). The folded network is one
 * convolution-with-bias per conv layer, then ReLU / residual add as before. Both the ONNX
 * exporter (`onnx.ts`) and the folded tfjs graph (`inference-graph.ts`) are built from the
 * `FoldedResNet` this module produces, so they share one reading of the checkpoint's weights.
 *
 * Works on plain `Float32Array`s (no tfjs), with the scale computed in float64 so the folded
 * weights are as close to the unfolded computation as float32 allows.
 */
import { UserError } from '../errors.ts';

/**
 * One tensor of a checkpoint in tfjs layout (conv kernels HWIO: [kh, kw, in, out]); the shape of
 * `readCheckpointWeights`'s entries (`WeightArray` in checkpoint.ts).
 */
export interface NamedWeight {
  shape: readonly number[];
  values: Float32Array;
}

/** Weights by their tfjs name, `<layer>/<weight>` (see docs/interfaces.md). */
export type WeightMap = ReadonlyMap<string, NamedWeight>;

/** The architecture fields of `checkpoint.json`'s `model` that fix every tensor's shape. */
export interface ResNetShape {
  blocks: readonly number[];
  widths: readonly number[];
  stemChannels: number;
  embeddingSize: number;
  numClasses: number;
  bnEpsilon?: number;
}

export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
  epsilon: number;
}

/** A convolution with batch norm folded in: kernel HWIO, bias per output channel. */
export interface FoldedConv {
  /** The tfjs conv layer it came from, e.g. `s2b0_conv1`. */
  name: string;
  kernelSize: number;
  stride: number;
  inChannels: number;
  outChannels: number;
  /** [kh, kw, in, out], row-major (tfjs layout). */
  kernel: Float32Array;
  /** Null for a convolution that had neither bias nor batch norm (the 1×1 shortcuts). */
  bias: Float32Array | null;
  /** Zero padding [top, left, bottom, right], as tfjs's 'same' places it (extra at the end). */
  pads: [number, number, number, number];
  /** Spatial size of the square input this convolution sees. */
  inputSize: number;
}

export interface FoldedBlock {
  conv1: FoldedConv;
  conv2: FoldedConv;
  /** The 1×1 projection where stride or width changes; absent for the identity shortcut. */
  shortcut?: FoldedConv;
}

export interface FoldedResNet {
  inputSize: number;
  inputChannels: number;
  stem: FoldedConv;
  blocks: FoldedBlock[];
  embeddingSize: number;
  numClasses: number;
  /** Dense head, tfjs layout [embeddingSize, numClasses]. */
  headKernel: Float32Array;
  headBias: Float32Array;
}

/** tfjs batch-norm epsilon unless the checkpoint says otherwise (docs/interfaces.md). */
export const DEFAULT_BN_EPSILON = 1e-3;
/** The seed's stem: 7×7, stride 2 (docs/model.md). */
const STEM_KERNEL = 7;
const STEM_STRIDE = 2;
const INPUT_SIZE = 32;
const INPUT_CHANNELS = 3;

/**
 * Folds one batch norm into the convolution before it. `kernel` is HWIO (output channel
 * fastest), so output channel o of element i is `i % outChannels`.
 */
export function foldBatchNorm(
  kernel: Float32Array,
  outChannels: number,
  bn: BatchNormParams,
  convBias: Float32Array | null = null,
): { kernel: Float32Array; bias: Float32Array } {
  const scale = new Float64Array(outChannels);
  const bias = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    scale[o] = bn.gamma[o] / Math.sqrt(bn.movingVariance[o] + bn.epsilon);
    const b = convBias === null ? 0 : convBias[o];
    bias[o] = bn.beta[o] + (b - bn.movingMean[o]) * scale[o];
  }
  const folded = new Float32Array(kernel.length);
  for (let i = 0; i < kernel.length; i += outChannels) {
    for (let o = 0; o < outChannels; o++) folded[i + o] = kernel[i + o] * scale[o];
  }
  return { kernel: folded, bias };
}

/** TensorFlow's 'same' padding along one axis: the odd pixel goes at the end. */
export function samePadding(inputSize: number, kernelSize: number, stride: number): [number, number] {
  const outputSize = Math.ceil(inputSize / stride);
  const total = Math.max((outputSize - 1) * stride + kernelSize - inputSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Output size of a 'same' convolution. */
function sameOutputSize(inputSize: number, stride: number): number {
  return Math.ceil(inputSize / stride);
}

/** Reads the named tensors of one checkpoint and checks every shape, naming what is wrong. */
class WeightReader {
  constructor(
    private readonly weights: WeightMap,
    private readonly source: string,
  ) {}

  get(name: string, expectedShape: readonly number[]): Float32Array {
    const weight = this.weights.get(name);
    const where = `checkpoint ${this.source}`;
    if (weight === undefined) {
      throw new UserError(
        `${where}: weight '${name}' is missing (expected shape [${expectedShape.join(',')}]); ` +
          `the weights do not match the model in checkpoint.json — use a complete checkpoint written by 'train'`,
      );
    }
    const same = weight.shape.length === expectedShape.length && weight.shape.every((d, i) => d === expectedShape[i]);
    const expectedLength = expectedShape.reduce((a, b) => a * b, 1);
    if (!same || weight.values.length !== expectedLength) {
      throw new UserError(
        `${where}: weight '${name}' has shape [${weight.shape.join(',')}] (${weight.values.length} values), ` +
          `expected [${expectedShape.join(',')}] for the model in checkpoint.json — the checkpoint is corrupt or ` +
          `from another model`,
      );
    }
    return weight.values;
  }

  has(name: string): boolean {
    return this.weights.has(name);
  }

  batchNorm(layer: string, channels: number, epsilon: number): BatchNormParams {
    return {
      gamma: this.get(`${layer}/gamma`, [channels]),
      beta: this.get(`${layer}/beta`, [channels]),
      movingMean: this.get(`${layer}/moving_mean`, [channels]),
      movingVariance: this.get(`${layer}/moving_variance`, [channels]),
      epsilon,
    };
  }
}

function checkShapeConfig(shape: ResNetShape, source: string): void {
  const where = `checkpoint ${source}: checkpoint.json model`;
  const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!Array.isArray(shape.blocks) || shape.blocks.length === 0 || !shape.blocks.every(positiveInt)) {
    throw new UserError(`${where}.blocks must be a list of positive integers, got ${JSON.stringify(shape.blocks)}`);
  }
  if (!Array.isArray(shape.widths) || shape.widths.length !== shape.blocks.length || !shape.widths.every(positiveInt)) {
    throw new UserError(
      `${where}.widths must list one positive width per stage (${shape.blocks.length}), got ` +
        `${JSON.stringify(shape.widths)}`,
    );
  }
  for (const key of ['stemChannels', 'embeddingSize', 'numClasses'] as const) {
    if (!positiveInt(shape[key]))
      throw new UserError(`${where}.${key} must be a positive integer, got ${JSON.stringify(shape[key])}`);
  }
  const lastWidth = Number(shape.widths[shape.widths.length - 1]);
  if (shape.embeddingSize !== lastWidth) {
    throw new UserError(
      `${where}.embeddingSize (${shape.embeddingSize}) must equal the last stage's width (${lastWidth}): the ` +
        `embedding is its global average`,
    );
  }
}

/**
 * Builds the folded network from a checkpoint's weights. Every tensor the architecture needs is
 * looked up by its documented name and shape-checked; the first one missing or misshaped throws
 * a `UserError` naming it. `source` names the checkpoint in those messages.
 */
export function foldResNet(weights: WeightMap, shape: ResNetShape, source: string): FoldedResNet {
  checkShapeConfig(shape, source);
  const reader = new WeightReader(weights, source);
  const epsilon = shape.bnEpsilon ?? DEFAULT_BN_EPSILON;

  const convWithBn = (
    convName: string,
    bnName: string,
    k: number,
    stride: number,
    cin: number,
    cout: number,
    size: number,
  ): FoldedConv => {
    const kernel = reader.get(`${convName}/kernel`, [k, k, cin, cout]);
    const folded = foldBatchNorm(kernel, cout, reader.batchNorm(bnName, cout, epsilon));
    return makeConv(convName, k, stride, cin, cout, size, folded.kernel, folded.bias);
  };

  let size = INPUT_SIZE;
  const stem = convWithBn('stem_conv', 'stem_bn', STEM_KERNEL, STEM_STRIDE, INPUT_CHANNELS, shape.stemChannels, size);
  size = sameOutputSize(size, STEM_STRIDE);

  const blocks: FoldedBlock[] = [];
  let channels = shape.stemChannels;
  shape.blocks.forEach((count, stageIndex) => {
    const stage = stageIndex + 1;
    const width = shape.widths[stageIndex];
    for (let b = 0; b < count; b++) {
      const prefix = `s${stage}b${b}`;
      const stride = b === 0 && stageIndex > 0 ? 2 : 1;
      const conv1 = convWithBn(`${prefix}_conv1`, `${prefix}_bn1`, 3, stride, channels, width, size);
      const outSize = sameOutputSize(size, stride);
      const conv2 = convWithBn(`${prefix}_conv2`, `${prefix}_bn2`, 3, 1, width, width, outSize);
      const block: FoldedBlock = { conv1, conv2 };
      if (stride !== 1 || channels !== width) {
        const kernel = reader.get(`${prefix}_shortcut/kernel`, [1, 1, channels, width]);
        block.shortcut = makeConv(`${prefix}_shortcut`, 1, stride, channels, width, size, kernel, null);
      } else if (reader.has(`${prefix}_shortcut/kernel`)) {
        throw new UserError(
          `checkpoint ${source}: weight '${prefix}_shortcut/kernel' exists but block ${prefix} keeps its shape, so ` +
            `the model in checkpoint.json has no shortcut convolution there — the weights are from another model`,
        );
      }
      blocks.push(block);
      channels = width;
      size = outSize;
    }
  });

  return {
    inputSize: INPUT_SIZE,
    inputChannels: INPUT_CHANNELS,
    stem,
    blocks,
    embeddingSize: shape.embeddingSize,
    numClasses: shape.numClasses,
    headKernel: reader.get('logits/kernel', [shape.embeddingSize, shape.numClasses]),
    headBias: reader.get('logits/bias', [shape.numClasses]),
  };
}

function makeConv(
  name: string,
  kernelSize: number,
  stride: number,
  inChannels: number,
  outChannels: number,
  inputSize: number,
  kernel: Float32Array,
  bias: Float32Array | null,
): FoldedConv {
  const [before, after] = samePadding(inputSize, kernelSize, stride);
  return {
    name,
    kernelSize,
    stride,
    inChannels,
    outChannels,
    kernel,
    bias,
    pads: [before, before, after, after],
    inputSize,
  };
}

/** HWIO [kh, kw, in, out] → OIHW [out, in, kh, kw], the layout of ONNX's and PyTorch's Conv. */
export function hwioToOihw(kernel: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        const src = ((y * kw + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = kernel[src + o];
      }
    }
  }
  return out;
}
