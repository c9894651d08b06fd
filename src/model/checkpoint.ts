/**
 * Checkpoints, one file per job under `./checkpoint/`:
 *
 *   format.ts      the on-disk layout: file names, `checkpoint.json`'s type, step labels, listing
 *   validate.ts    checking `checkpoint.json` and weight shapes (no tfjs)
 *   weights-io.ts  weights and Adam state as plain float32 arrays, the tfjs IOHandler (no tfjs)
 *   checksums.ts   the SHA-256 of the weight files, recorded in `checkpoint.json` and checked on load
 *   save.ts        writing a checkpoint atomically (hidden directory, then one rename)
 *   load.ts        the tfjs model and a live Adam optimizer from a checkpoint
 *   stored.ts      checkpoints behind the storage interface (a bucket): listing, upload, download
 *
 * Reading the metadata and the raw weights (`readCheckpointMeta`, `readCheckpointWeights`) needs
 * no tfjs: the ONNX exporter and the watcher use them without a backend. Everything that builds
 * tensors loads tfjs on demand.
 */
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_JSON,
  MODEL_JSON,
  OPTIMIZER_BIN,
  OPTIMIZER_JSON,
  WEIGHTS_BIN,
  checkpointDirName,
  latestCheckpoint,
  listCheckpoints,
  parseCheckpointDirName,
  stepLabel,
  type CheckpointEntry,
  type CheckpointMeta,
  type OptimizerState,
  type WeightArray,
} from './checkpoint/format.ts';
export { checkWeightShapes, expectedWeightShapes, readCheckpointMeta } from './checkpoint/validate.ts';
export { CHECKSUMMED_FILES, sha256Checksum } from './checkpoint/checksums.ts';
export { fileModelHandler, readCheckpointWeights, readOptimizerState } from './checkpoint/weights-io.ts';
export { captureOptimizerState, saveCheckpoint, type SaveCheckpointInput } from './checkpoint/save.ts';
export { createAdam, loadCheckpoint, loadCheckpointModel, type LoadedCheckpoint } from './checkpoint/load.ts';
