/**
 * CIFAR-10 for the rest of the project: where it is (`resolveCifarSource`, `ensureCifarSource`),
 * reading it (`loadCifar10`), fixed validation subsets (`stratifiedSubset`), model input
 * (`toModelInput`) and augmented training batches (`TrainBatches`).
 */
export {
  resolveCifarSource,
  ensureCifarSource,
  cachedArchivePath,
  DEFAULT_CACHE_DIR,
  BUNDLED_ARCHIVE,
  type EnsureSourceOptions,
} from './source.ts';
export { downloadCifar10, CIFAR10_URL, CIFAR10_MD5, CIFAR10_ARCHIVE_NAME, type DownloadOptions } from './download.ts';
export { loadCifar10, type Cifar10, type LoadOptions } from './load.ts';
export {
  IMAGE_SIZE,
  CHANNELS,
  IMAGE_BYTES,
  RECORD_BYTES,
  NUM_CLASSES,
  OFFICIAL_CLASS_NAMES,
  type Split,
} from './cifar-format.ts';
export { stratifiedSubset, toModelInput } from './subset.ts';
export {
  transformImage,
  drawTransform,
  identityTransform,
  describeAugmentation,
  SEED_AUGMENTATION,
  NO_AUGMENTATION,
  type AugmentOptions,
  type ImageTransform,
} from './augment.ts';
export { TrainBatches, type TrainBatch, type TrainBatchesOptions } from './batches.ts';
