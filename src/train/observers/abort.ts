/** Stops the run after the current step (or epoch end) once `signal` is aborted, as SIGINT does. */
import type { TrainObserver } from '../step-loop.ts';

export function stopOnAbort(signal: AbortSignal): TrainObserver {
  return {
    onStepEnd: () => signal.aborted,
    onEpochEnd: () => signal.aborted,
  };
}
