/**
 * The trainer's side of `--workers`: how many worker threads a run uses (logged once, with the
 * reason when it had to be clamped), and the `StepFactory` that gives the loop a data-parallel
 * step. The loop, checkpoints, validation and observers stay on the trainer's thread, with the
 * master model and optimizer, so everything they do works the same for any worker count, and a
 * run may resume with another one.
 */
import { availableParallelism } from 'node:os';
import { createTrainStep, type StepContext, type StepFactory, type TrainStep } from '../step.ts';
import { createParallelTrainStep, type ParallelStepOptions, type ParallelTrainStep } from './parallel-step.ts';
import { WorkerFailure } from './pool.ts';
import { chooseWorkerCount, type WorkerChoice } from './slices.ts';

/** How often the replicas' weights are compared with the master's when DEBUG is set (steps). */
export const DEBUG_CHECK_EVERY = 20;

export function workersForRun(asked: number | undefined, batchSize: number, backend: string): WorkerChoice {
  return chooseWorkerCount({ asked, batchSize, cores: availableParallelism(), backend });
}

/** A `StepFactory` for `workers` (> 1) threads on `backend`; the step closes them when disposed. */
export function parallelStepFactory(
  workers: number,
  backend: string,
  checkEvery = process.env.DEBUG ? DEBUG_CHECK_EVERY : 0,
): StepFactory {
  return async ({ model, optimizer, numClasses, settings }: StepContext): Promise<TrainStep> => {
    const parallel = await createParallelTrainStep({
      model,
      modelOptions: settings.model,
      optimizer,
      numClasses,
      workers,
      maxBatch: settings.data.batchSize,
      backend,
      checkEvery,
    });
    const step: TrainStep = async (batch) => {
      try {
        return await parallel.step(batch);
      } catch (error) {
        if (!(error instanceof WorkerFailure)) throw error;
        // One line: what happened, that nothing was lost, what to do.
        throw new WorkerFailure(
          `${error.message}; training stopped, the newest checkpoint in ` +
            `${settings.logdir}/${settings.run}/checkpoints is complete: ` +
            `continue with --resume --run ${settings.run} ` +
            `(with --workers 1 or a smaller --batch-size if memory ran out)`,
          error.workerStack,
        );
      }
    };
    return Object.assign(step, { [Symbol.asyncDispose]: () => parallel.close(), pool: parallel.pool });
  };
}

/**
 * The step the scripts (benchmark, loss curve) train with: the data-parallel one on `workers`
 * threads when more than one, else the single-thread one. `parallel` is kept for its timings and
 * must be closed by the caller.
 */
export async function trainStepForWorkers(
  options: ParallelStepOptions,
): Promise<{ step: TrainStep; parallel?: ParallelTrainStep }> {
  if (options.workers <= 1) return { step: createTrainStep(options.model, options.optimizer, options.numClasses) };
  const parallel = await createParallelTrainStep(options);
  return { step: parallel.step, parallel };
}
