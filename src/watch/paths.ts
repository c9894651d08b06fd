/**
 * Where the watcher keeps each run's outputs, all under `<logdir>/<run>/embeddings/` except the
 * projector config, which TensorBoard's projector looks for in the run directory itself. The
 * watcher's event files are in `embeddings/` too: TensorBoard shows them as the run
 * `<run>/embeddings` (why a directory of their own: events.ts).
 */
import { join } from 'node:path';
import { stepLabel } from '../model/checkpoint/format.ts';

/** `000012800`: nine digits, like the checkpoint directories, so names sort by step. */
export { stepLabel } from '../model/checkpoint/format.ts';

export function runPaths(runDir: string) {
  const embeddings = join(runDir, 'embeddings');
  return {
    runDir,
    checkpoints: join(runDir, 'checkpoints'),
    embeddings,
    /** The watcher's TensorBoard event files. */
    events: embeddings,
    state: join(embeddings, 'state.json'),
    lock: join(embeddings, 'watcher.lock'),
    projector: join(embeddings, 'projector'),
    frames: join(embeddings, 'frames'),
    images: join(embeddings, 'images'),
    gif: join(embeddings, 'images', 'animation.gif'),
    frameFile: (step: number) => join(embeddings, 'frames', `step-${stepLabel(step)}.tsv`),
    imageFile: (step: number) => join(embeddings, 'images', `step-${stepLabel(step)}.png`),
  };
}

export type RunPaths = ReturnType<typeof runPaths>;
