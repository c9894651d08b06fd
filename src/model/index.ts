/**
 * The model folder's public face: the seed's ResNet and its checkpoints. Importing it loads tfjs
 * (resnet.ts): code that runs without tfjs (the watcher on ONNX Runtime, export-onnx) imports
 * `./checkpoint.ts`, whose readers (`readCheckpointMeta`, `readCheckpointWeights`) need no backend.
 */
export {
  buildResNet,
  countTrainableParams,
  parseBlocks,
  predictLogitsAndEmbedding,
  resolveModelOptions,
  RESNET_PRESETS,
  IMAGE_SIZE,
  IMAGE_CHANNELS,
  type ModelOptions,
  type ResNetConfig,
} from './resnet.ts';
export {
  captureOptimizerState,
  checkpointDirName,
  checkWeightShapes,
  CHECKPOINT_FORMAT,
  CHECKPOINT_JSON,
  createAdam,
  expectedWeightShapes,
  fileModelHandler,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  loadCheckpointModel,
  parseCheckpointDirName,
  readCheckpointMeta,
  readCheckpointWeights,
  readOptimizerState,
  saveCheckpoint,
  stepLabel,
  type CheckpointEntry,
  type CheckpointMeta,
  type LoadedCheckpoint,
  type OptimizerState,
  type SaveCheckpointInput,
  type WeightArray,
} from './checkpoint.ts';
