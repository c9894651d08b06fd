/**
 * The seed exercise's ResNet for 32 × 32 × 3 images (see ../../../shared/docs/model.md):
 * a 7×7 stride-2 stem, stages of basic residual blocks, global average pooling to the
 * embedding, a dense head to the logits. The model has two outputs, `[logits, embedding]`,
 * like the seed's `forward` returning `(logits, emb)`.
 *
 * Layer names are a contract (docs/interfaces.md): the ONNX exporter and the folded inference
 * graph find every weight as `<layer>/<weight>`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors.ts';

export interface ResNetConfig {
  /** Basic blocks per stage, e.g. `[6, 6, 12]` for the seed's model. */
  blocks: number[];
  /** Channels per stage; defaults to 32, 64, 128, … (doubling). */
  widths?: number[];
  /** Channels of the stem convolution; defaults to 32. */
  stemChannels?: number;
  numClasses?: number;
  /** Seeds every initializer, so the same seed gives the same untrained network. */
  seed?: number;
  /** Batch-norm epsilon; tfjs's default 1e-3 unless told otherwise. */
  bnEpsilon?: number;
}

/** What `checkpoint.json` records under `"model"`: enough to rebuild the network. */
export interface ModelOptions {
  blocks: number[];
  widths: number[];
  stemChannels: number;
  embeddingSize: number;
  numClasses: number;
  bnEpsilon?: number;
}

/** Named stage layouts for `--blocks`. `small` trains in minutes on a CPU, for demos. */
export const RESNET_PRESETS: Readonly<Record<string, readonly number[]>> = {
  seed: [6, 6, 12],
  small: [1, 1, 1],
};

export const IMAGE_SIZE = 32;
export const IMAGE_CHANNELS = 3;
const DEFAULT_BN_EPSILON = 1e-3;
/**
 * PyTorch's batch-norm momentum 0.1 is Keras's 0.9 (Keras keeps `momentum` of the old value).
 * tfjs's default 0.99 would leave the moving statistics far behind the weights early in training,
 * which is exactly when the watcher's first frames embed the validation images.
 */
const BN_MOMENTUM = 0.9;

function defaultWidths(stages: number): number[] {
  return Array.from({ length: stages }, (_, i) => 32 * 2 ** i);
}

function checkPositiveIntegers(what: string, values: readonly number[]): void {
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new UserError(`model: ${what} must be a non-empty list of positive integers, got [${values.join(',')}]`);
  }
}

/** Fills in the defaults and checks the config; the result is what checkpoints record. */
export function resolveModelOptions(config: ResNetConfig): ModelOptions {
  const blocks = [...config.blocks];
  checkPositiveIntegers('blocks', blocks);
  const widths = config.widths ? [...config.widths] : defaultWidths(blocks.length);
  checkPositiveIntegers('widths', widths);
  if (widths.length !== blocks.length) {
    throw new UserError(
      `model: ${blocks.length} stages of blocks but ${widths.length} widths; give one width per stage`,
    );
  }
  const stemChannels = config.stemChannels ?? 32;
  const numClasses = config.numClasses ?? 10;
  checkPositiveIntegers('stemChannels and numClasses', [stemChannels, numClasses]);
  const options: ModelOptions = { blocks, widths, stemChannels, embeddingSize: widths[widths.length - 1]!, numClasses };
  if (config.bnEpsilon !== undefined && config.bnEpsilon !== DEFAULT_BN_EPSILON) options.bnEpsilon = config.bnEpsilon;
  return options;
}

/**
 * Parses `--blocks`: a preset name (`seed`, `small`) or comma-separated counts (`6,6,12`).
 */
export function parseBlocks(text: string): number[] {
  const preset = RESNET_PRESETS[text.trim()];
  if (preset) return [...preset];
  const parts = text.split(',').map((part) => part.trim());
  const blocks = parts.map(Number);
  if (parts.some((p) => p === '') || blocks.some((b) => !Number.isInteger(b) || b < 1)) {
    const presets = Object.keys(RESNET_PRESETS).join(', ');
    throw new UserError(
      `--blocks must be comma-separated positive integers such as 6,6,12 or a preset (${presets}), got '${text}'`,
    );
  }
  return blocks;
}

/** Hands out a distinct seed per initializer, so layers do not start identical. */
class SeedSequence {
  private next: number;
  constructor(private readonly base: number | undefined) {
    this.next = base ?? 0;
  }
  take(): number | undefined {
    if (this.base === undefined) return undefined;
    this.next += 1;
    return this.next;
  }
}

/**
 * Builds the ResNet. `buildResNet({ blocks: [6, 6, 12] })` is the seed's model with
 * 4,024,490 trainable parameters.
 *
 * Convolutions use tfjs's 'same' padding. For the stride-2 layers this pads the extra row and
 * column after the image (TensorFlow and ONNX `SAME_UPPER` convention), where PyTorch's
 * `padding=3` / `padding=1` pads both sides equally: same shapes and parameters, a one-pixel
 * shift in which inputs a stride-2 window sees. We never load PyTorch weights, so we keep the
 * convention every other tool of ours (tfjs, ONNX) shares.
 */
export function buildResNet(config: ResNetConfig): tfl.LayersModel {
  const options = resolveModelOptions(config);
  const epsilon = options.bnEpsilon ?? DEFAULT_BN_EPSILON;
  const seeds = new SeedSequence(config.seed);

  // PyTorch's default initialisation, as the seed trained with: kernels uniform in
  // ±1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)), which is variance scaling 1/3, fan-in,
  // uniform. It starts the deep network with small logits (loss near ln 10) where He-normal
  // kernels start it near 5.
  const torchDefault = () =>
    tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: seeds.take() });
  const conv = (name: string, filters: number, kernelSize: number, strides: number) =>
    tfl.layers.conv2d({
      name,
      filters,
      kernelSize,
      strides,
      padding: 'same',
      useBias: false,
      kernelInitializer: torchDefault(),
    });
  const batchNorm = (name: string) => tfl.layers.batchNormalization({ name, axis: -1, momentum: BN_MOMENTUM, epsilon });
  const relu = (name: string) => tfl.layers.reLU({ name });

  const input = tfl.input({ shape: [IMAGE_SIZE, IMAGE_SIZE, IMAGE_CHANNELS], name: 'image' });
  let x = conv('stem_conv', options.stemChannels, 7, 2).apply(input) as tfl.SymbolicTensor;
  x = batchNorm('stem_bn').apply(x) as tfl.SymbolicTensor;
  x = relu('stem_relu').apply(x) as tfl.SymbolicTensor;

  let channels = options.stemChannels;
  options.blocks.forEach((count, stageIndex) => {
    const stage = stageIndex + 1;
    const width = options.widths[stageIndex]!;
    for (let b = 0; b < count; b++) {
      const name = `s${stage}b${b}`;
      // Only the first block of a stage after the first halves the resolution.
      const stride = b === 0 && stageIndex > 0 ? 2 : 1;
      let y = conv(`${name}_conv1`, width, 3, stride).apply(x) as tfl.SymbolicTensor;
      y = batchNorm(`${name}_bn1`).apply(y) as tfl.SymbolicTensor;
      y = relu(`${name}_relu1`).apply(y) as tfl.SymbolicTensor;
      y = conv(`${name}_conv2`, width, 3, 1).apply(y) as tfl.SymbolicTensor;
      y = batchNorm(`${name}_bn2`).apply(y) as tfl.SymbolicTensor;
      // The seed's shortcut is a bare 1×1 convolution (no batch norm) where the shape changes.
      const shortcut =
        stride !== 1 || channels !== width
          ? (conv(`${name}_shortcut`, width, 1, stride).apply(x) as tfl.SymbolicTensor)
          : x;
      const sum = tfl.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tfl.SymbolicTensor;
      x = relu(`${name}_out`).apply(sum) as tfl.SymbolicTensor;
      channels = width;
    }
  });

  const embedding = tfl.layers.globalAveragePooling2d({ name: 'embedding' }).apply(x) as tfl.SymbolicTensor;
  const biasLimit = 1 / Math.sqrt(options.embeddingSize);
  const logits = tfl.layers
    .dense({
      name: 'logits',
      units: options.numClasses,
      kernelInitializer: torchDefault(),
      // PyTorch's nn.Linear bias: uniform in ±1/sqrt(fan_in) too.
      biasInitializer: tfl.initializers.randomUniform({ minval: -biasLimit, maxval: biasLimit, seed: seeds.take() }),
    })
    .apply(embedding) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: [logits, embedding], name: 'resnet' });
}

/** Trainable parameters only (batch-norm moving statistics excluded), as model.md counts them. */
export function countTrainableParams(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
}

/**
 * Runs the model in inference mode (batch norm on its moving statistics) and returns
 * `[logits, embedding]`. The caller owns (and disposes) both tensors.
 */
export function predictLogitsAndEmbedding(model: tfl.LayersModel, images: tf.Tensor4D): [tf.Tensor2D, tf.Tensor2D] {
  const outputs = model.apply(images, { training: false }) as tf.Tensor[];
  return [outputs[0] as tf.Tensor2D, outputs[1] as tf.Tensor2D];
}
