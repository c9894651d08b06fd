/** Training: the loop, its step, checkpoint schedule, progress line and worst-samples grids. */
export { train, DEFAULT_BATCH_SIZE, DEFAULT_BLOCKS, DEFAULT_SEED, type TrainHooks, type TrainOptions, type TrainResult } from './loop.ts';
export { createTrainStep, evaluate, type Batch, type EvaluationResult, type StepResult, type TrainStep } from './step.ts';
export { CheckpointSchedule, DEFAULT_INTERVALS } from './schedule.ts';
export { ProgressBar, formatProgress, formatDuration, type ProgressState } from './progress.ts';
export { worstSampleGrids, worstIndicesPerClass, tileImages, type GridImage } from './worst-samples.ts';
export { newestRunWithCheckpoints, timestampRunName } from './runs.ts';
