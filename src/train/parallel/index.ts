/** Data-parallel training over worker threads: slices, shared memory, the pool, the step. */
export { MIN_IMAGES_PER_WORKER, chooseWorkerCount, planSlices, type Slice, type WorkerChoice } from './slices.ts';
export { Exchange, parameterLayout, weightedAverage, type ParameterLayout } from './exchange.ts';
export { weightsChecksum } from './checksum.ts';
export { WorkerFailure, WorkerPool } from './pool.ts';
export {
  createParallelTrainStep,
  type AveragedGradients,
  type ParallelStepOptions,
  type ParallelTrainStep,
} from './parallel-step.ts';
