/**
 * Every path of a run, in one place: what the trainer writes, what the watcher writes for each
 * chain, what the player and the tests read.
 *
 *   <logdir>/<run>/
 *     checkpoints/step-NNNNNNNNN/            the trainer's checkpoints (model/checkpoint/)
 *     events.out.tfevents.*                  the trainer's TensorBoard points
 *     projector_config.pbtxt                 the projector entries of our own chain
 *     embeddings/                            our own chain (checkpoints → frames): see below
 *     timelapse/<tag>/                       one chain per embedding tag of another trainer's
 *                                            projector files: the same files as embeddings/, plus
 *                                            its own projector_config.pbtxt (the run's own one is
 *                                            the user's file and is never touched)
 *
 *   <chain dir>/
 *     state.json          the chain's record; written last for every frame (the commit point)
 *     watcher.lock        the process id of the watcher drawing the chain
 *     events.out.tfevents.*.watcher   the watcher's TensorBoard points (run `<run>/<chain dir>`)
 *     frames/step-N.tsv   each frame's aligned 2-D positions
 *     images/step-N.png   each frame's picture; images/animation.gif the animation
 *     projector/          metadata.tsv, sprite.png, step-N.tsv (embeddings), step-N-tsne.tsv
 *     timelapse.html      the player page
 *     page/               its data: header.js, frames-NNNNNN.js (appended chunks), index.js
 */
import { join } from 'node:path';
import { checkpointDirName, stepLabel } from './model/checkpoint/format.ts';

/** `000012800`: nine digits, like the checkpoint directories, so names sort by step. */
export { stepLabel } from './model/checkpoint/format.ts';

export const CHECKPOINTS_DIR = 'checkpoints';
/** Our own chain's folder in a run. */
export const OWN_CHAIN_DIR = 'embeddings';
/** The folder under which the chains of other trainers' embedding tags go, one folder per tag. */
export const TAG_CHAINS_DIR = 'timelapse';
export const PAGE_FILE = 'timelapse.html';
/** The page's data files, beside it. */
export const PAGE_DATA_DIR = 'page';
/** Names the chunks of frames the page has; rewritten whenever the page is brought up to the record. */
export const PAGE_INDEX_FILE = 'index.js';
export const STATE_FILE = 'state.json';
export const LOCK_FILE = 'watcher.lock';
export const PROJECTOR_CONFIG = 'projector_config.pbtxt';
/** Side of a thumbnail in the projector sprite, in pixels (CIFAR-10 images are 32 × 32). */
export const SPRITE_TILE = 32;

/** The trainer's side of a run. */
export function checkpointsDir(runDir: string): string {
  return join(runDir, CHECKPOINTS_DIR);
}

export function checkpointDir(runDir: string, step: number): string {
  return join(runDir, CHECKPOINTS_DIR, checkpointDirName(step));
}

/**
 * A tag as one safe folder name: letters, digits, `.`, `_` and `-` kept, anything else `_`, so
 * `default:00010` or `layer/fc` cannot leave the chain's folder; a leading dot is not kept either.
 */
export function tagFolderName(tag: string): string {
  const safe = tag.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return safe === '' ? '_' : safe;
}

/**
 * The paths of one chain. `tag` undefined: our own chain (`<run>/embeddings/`, projector config in
 * the run directory, as TensorBoard's projector expects). A tag: `<run>/timelapse/<tag>/`, with
 * the projector config inside it (TensorBoard shows that folder as a run of its own).
 */
export function chainLayout(runDir: string, tag?: string) {
  const dir = tag === undefined ? join(runDir, OWN_CHAIN_DIR) : join(runDir, TAG_CHAINS_DIR, tagFolderName(tag));
  /** Where `projector_config.pbtxt` goes; projector paths are relative to it. */
  const projectorRoot = tag === undefined ? runDir : dir;
  /** The chain's projector folder relative to `projectorRoot`. */
  const projectorFromRoot = tag === undefined ? `${OWN_CHAIN_DIR}/projector` : 'projector';
  return {
    runDir,
    /** The trainer's checkpoints (our own chain's source). */
    checkpoints: checkpointsDir(runDir),
    /** The chain's folder. */
    embeddings: dir,
    /** The watcher's TensorBoard event files. */
    events: dir,
    state: join(dir, STATE_FILE),
    lock: join(dir, LOCK_FILE),
    frames: join(dir, 'frames'),
    images: join(dir, 'images'),
    gif: join(dir, 'images', 'animation.gif'),
    page: join(dir, PAGE_FILE),
    pageIndex: join(dir, PAGE_DATA_DIR, PAGE_INDEX_FILE),
    projector: join(dir, 'projector'),
    projectorRoot,
    projectorConfig: join(projectorRoot, PROJECTOR_CONFIG),
    /** Relative to `projectorRoot`, as the projector config names them. */
    projectorFiles: {
      metadata: `${projectorFromRoot}/metadata.tsv`,
      sprite: `${projectorFromRoot}/sprite.png`,
      /**
       * The step's 128-d copy; null for a tag's chain, whose embeddings are already the user's
       * own projector entries (a copy would double their size on disk at every step).
       */
      embeddings: tag === undefined ? (step: number) => `${projectorFromRoot}/step-${stepLabel(step)}.tsv` : null,
      frame: (step: number) => `${projectorFromRoot}/step-${stepLabel(step)}-tsne.tsv`,
    },
    /** The sprite as the page (in the chain's folder) links it. */
    spriteFromPage: 'projector/sprite.png',
    frameFile: (step: number) => join(dir, 'frames', `step-${stepLabel(step)}.tsv`),
    imageFile: (step: number) => join(dir, 'images', `step-${stepLabel(step)}.png`),
  };
}

export type ChainLayout = ReturnType<typeof chainLayout>;

/** Our own chain's paths in `runDir`: `chainLayout(runDir)`. */
export function runPaths(runDir: string): ChainLayout {
  return chainLayout(runDir);
}

export type RunPaths = ChainLayout;
