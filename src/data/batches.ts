/**
 * Shuffled, augmented training batches that a resumed run can continue exactly.
 *
 * Everything random is a function of the seed and a position, never of how many batches came
 * before: an epoch's order depends only on (seed, epoch), and a sample's augmentation only on
 * (seed, epoch, position in the epoch). So `batches(epoch, offset)` after a restart yields
 * exactly what the uninterrupted run would have yielded from that point.
 */
import { Random, mixSeed } from '../util/random.ts';
import {
  NO_AUGMENTATION,
  SEED_AUGMENTATION,
  drawTransform,
  identityTransform,
  transformImage,
  type AugmentOptions,
  type ImageTransform,
} from './augment.ts';
import { IMAGE_BYTES, type Split } from './cifar-format.ts';

export interface TrainBatchesOptions {
  /** Default 256. */
  batchSize?: number;
  /** Default 0. */
  seed?: number;
  /** `true` (default): the seed's augmentation; `false`: none; or options merged over the seed's. */
  augment?: boolean | AugmentOptions;
  /** Default true; false keeps the split's order (for evaluation-like passes). */
  shuffle?: boolean;
  /** Leave out the last, smaller batch of each epoch. Default false. */
  dropLast?: boolean;
  /**
   * Default true: every batch is written into the same buffers, so a batch is valid only until
   * the next one is asked for. (tfjs's cpu backend keeps a reference to the array a tensor was
   * made from: dispose such a tensor before the next batch, or set this to false.)
   */
  reuseBuffers?: boolean;
}

export interface TrainBatch {
  /** count × 32 × 32 × 3, float32 in [-1, 1]. */
  x: Float32Array;
  labels: Int32Array;
  /** Which images of the split these are. */
  indices: Int32Array;
  count: number;
  epoch: number;
  /** Position of the batch's first sample in the epoch's order. */
  offset: number;
}

/** Independent random streams derived from one seed. */
const SHUFFLE_STREAM = 0x5f1e;
const AUGMENT_STREAM = 0xa06;

export class TrainBatches {
  readonly batchSize: number;
  readonly seed: number;
  readonly augment: Readonly<Required<AugmentOptions>>;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly reuseBuffers: boolean;

  private orderEpoch: number | null = null;
  private readonly order: Int32Array;
  private readonly random = new Random(0);
  private readonly transform: ImageTransform = identityTransform();
  private readonly x: Float32Array;
  private readonly labels: Int32Array;
  private readonly indices: Int32Array;

  constructor(
    readonly split: Split,
    options: TrainBatchesOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 256;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError(`batchSize must be a whole number >= 1, got ${this.batchSize}`);
    }
    if (split.count < 1) throw new RangeError('TrainBatches needs a split with at least one image');
    this.seed = options.seed ?? 0;
    const augment = options.augment ?? true;
    this.augment =
      augment === true ? SEED_AUGMENTATION : augment === false ? NO_AUGMENTATION : { ...SEED_AUGMENTATION, ...augment };
    this.shuffle = options.shuffle ?? true;
    this.dropLast = options.dropLast ?? false;
    this.reuseBuffers = options.reuseBuffers ?? true;
    this.order = new Int32Array(split.count);
    const capacity = Math.min(this.batchSize, split.count);
    this.x = new Float32Array(capacity * IMAGE_BYTES);
    this.labels = new Int32Array(capacity);
    this.indices = new Int32Array(capacity);
  }

  /** Samples one epoch yields (the whole split, or whole batches only with `dropLast`). */
  get samplesPerEpoch(): number {
    const count = this.split.count;
    return this.dropLast ? Math.floor(count / this.batchSize) * this.batchSize : count;
  }

  /** Where a run that has seen `samplesSeen` samples (from epoch 0, offset 0) continues. */
  locate(samplesSeen: number): { epoch: number; offset: number } {
    const perEpoch = this.samplesPerEpoch;
    if (perEpoch === 0)
      throw new RangeError(`dropLast with batchSize ${this.batchSize} > ${this.split.count} images leaves no batch`);
    return { epoch: Math.floor(samplesSeen / perEpoch), offset: samplesSeen % perEpoch };
  }

  /** The order in which `epoch` visits the split's images (a copy). */
  epochOrder(epoch: number): Int32Array {
    return this.orderFor(epoch).slice();
  }

  /** The augmentation drawn for the sample at `position` of `epoch` (for inspection and tests). */
  transformAt(epoch: number, position: number, out: ImageTransform = identityTransform()): ImageTransform {
    this.random.reseed(mixSeed(this.seed, epoch, position, AUGMENT_STREAM));
    return drawTransform(this.random, this.augment, out);
  }

  /** The batches of `epoch` from position `startOffset` of its order to its end. */
  *batches(epoch: number, startOffset = 0): Generator<TrainBatch> {
    const end = this.samplesPerEpoch;
    if (!Number.isInteger(startOffset) || startOffset < 0 || startOffset > end) {
      throw new RangeError(`startOffset must be a whole number in 0…${end}, got ${startOffset}`);
    }
    for (let offset = startOffset; offset < end; offset += this.batchSize) {
      yield this.batchAt(epoch, offset, Math.min(this.batchSize, end - offset));
    }
  }

  /** One batch: `count` samples from position `offset` of `epoch`'s order. */
  batchAt(epoch: number, offset: number, count = this.batchSize): TrainBatch {
    const order = this.orderFor(epoch);
    if (count > this.indices.length || offset + count > order.length) {
      throw new RangeError(`batch of ${count} at ${offset} does not fit an epoch of ${order.length}`);
    }
    const x = this.reuseBuffers ? this.x.subarray(0, count * IMAGE_BYTES) : new Float32Array(count * IMAGE_BYTES);
    const labels = this.reuseBuffers ? this.labels.subarray(0, count) : new Int32Array(count);
    const indices = this.reuseBuffers ? this.indices.subarray(0, count) : new Int32Array(count);
    const { images } = this.split;
    for (let k = 0; k < count; k++) {
      const index = order[offset + k];
      indices[k] = index;
      labels[k] = this.split.labels[index];
      this.transformAt(epoch, offset + k, this.transform);
      transformImage(images, index * IMAGE_BYTES, x, k * IMAGE_BYTES, this.transform);
    }
    return { x, labels, indices, count, epoch, offset };
  }

  /** The epoch's permutation, computed once per epoch into a reused array. */
  private orderFor(epoch: number): Int32Array {
    if (this.orderEpoch !== epoch) {
      const order = this.order;
      for (let i = 0; i < order.length; i++) order[i] = i;
      if (this.shuffle) new Random(mixSeed(this.seed, epoch, SHUFFLE_STREAM)).shuffle(order);
      this.orderEpoch = epoch;
    }
    return this.order;
  }
}
