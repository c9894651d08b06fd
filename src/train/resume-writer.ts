/**
 * The summary writer of a resumed run. A run killed after its last checkpoint has already
 * written points past that checkpoint's step; resuming from the checkpoint would write those
 * steps again, and TensorBoard draws such a curve back over itself. So a resumed run writes a
 * point only when its step is beyond every step the run's event files already hold for that
 * tag: each step is in the run once, the first time it was written. `run/resumed` is the
 * exception: it says a resume happened, so it moves to the next free step instead.
 */
import type { SummaryWriter } from '../tensorboard/index.ts';

/** What the training loop writes through. */
export type TrainWriter = Pick<SummaryWriter, 'scalar' | 'image' | 'text' | 'flush'>;

/** Tags whose points mark an event rather than measure the model: kept, one step on. */
const EVENT_TAGS = new Set(['run/resumed']);

/** `writer`, dropping points at steps `written` (tag → highest step in the run's files) already covers. */
export function writeOnlyNewSteps(writer: TrainWriter, written: ReadonlyMap<string, number>): TrainWriter {
  const isNew = (tag: string, step: number) => step > (written.get(tag) ?? -Infinity);
  return {
    scalar: (tag, value, step, display) => {
      if (isNew(tag, step)) writer.scalar(tag, value, step, display);
    },
    image: (tag, image, step, options) => {
      if (isNew(tag, step)) writer.image(tag, image, step, options);
    },
    text: (tag, markdown, step, display) => {
      if (EVENT_TAGS.has(tag)) writer.text(tag, markdown, Math.max(step, (written.get(tag) ?? -1) + 1), display);
      else if (isNew(tag, step)) writer.text(tag, markdown, step, display);
    },
    flush: () => writer.flush(),
  };
}
