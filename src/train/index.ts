/** Training: the loop and its observers, its step, checkpoint schedule, progress line and worst-samples grids. */
export {
  train,
  defaultStepFactory,
  type StepContext,
  type StepFactory,
  type TrainHooks,
  type TrainResult,
} from './loop.ts';
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_BLOCKS,
  DEFAULT_LEARNING_RATE,
  DEFAULT_LOG_EVERY,
  DEFAULT_SEED,
  type RunSettings,
  type TrainOptions,
} from './settings.ts';
export {
  runSteps,
  type RunPosition,
  type StepReport,
  type EpochReport,
  type TrainEndReport,
  type TrainObserver,
  type BatchSource,
} from './step-loop.ts';
export {
  createTrainStep,
  evaluate,
  type Batch,
  type EvaluationResult,
  type StepResult,
  type TrainStep,
} from './step.ts';
export { CheckpointSchedule, DEFAULT_INTERVALS, describeIntervals } from './schedule.ts';
export { ProgressBar, formatProgress, formatDuration, type ProgressState } from './progress.ts';
export { worstSampleGrids, worstIndicesPerClass, tileImages, type GridImage } from './worst-samples.ts';
export { newestRunWithCheckpoints, timestampRunName } from './runs.ts';
export { checkRunStart } from './start.ts';
