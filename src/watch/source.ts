/**
 * A source of embeddings: it finds the chains under a log directory, says which steps a chain
 * has, and loads one step's embeddings of the chain's fixed points. Our own checkpoints are one
 * source (sources/checkpoints.ts); every source lives in a file of its own under sources/ and is
 * registered with one line where the watcher is built. See docs/interfaces.md, "Adding a source".
 */
import type { ColorBar } from '../render/colors.ts';
import type { Rgb } from '../render/palette.ts';

/**
 * One chain: the steps of one model (or one embedding tag) of one run, turned into frames in
 * step order. `tag` undefined is our own checkpoints' chain (`<run>/embeddings/`); a tag gets
 * `<run>/timelapse/<tag>/` (see layout.ts).
 */
export interface ChainKey {
  run: string;
  tag?: string;
}

/** The fixed points every frame of a chain shows: the same points, in the same order. */
export interface PointSet {
  count: number;
  /** Each point's class, an index into `classNames`. */
  labels: Uint8Array;
  classNames: string[];
  /** Each point's index in the data it was drawn from (the CIFAR-10 test set, a metadata row). */
  testIndices: Int32Array;
  /** NHWC RGB thumbnails, `count × tile × tile × 3`, for the sprite and the page; null: none. */
  images: Uint8Array | null;
  /** Side of a thumbnail in pixels. */
  tile: number;
  /** The colour of each label (default: the ten CIFAR-10 class colours). */
  palette?: readonly Rgb[];
  /** A continuous scale: a colour bar is drawn instead of the legend. */
  colorBar?: ColorBar;
  /** What the points are, for captions and the page (default 'test images'). */
  noun?: string;
  /** What `testIndices` count, for the page (default 'test image'). */
  indexName?: string;
  /** The user's per-point columns (their metadata file), which the page can colour by and search in. */
  columns?: { name: string; values: string[] }[];
  /**
   * What identifies the points for the chain's record, when `labels` do not (they are colours a
   * flag chooses): e.g. the user's metadata file. Default: `labels`.
   */
  identity?: Uint8Array;
}

/** A step a chain has, as a source found it. */
export interface StepRef {
  step: number;
  /** Where it was found, for messages (a checkpoint folder, an event or tensor file). */
  where: string;
  /**
   * Known to be unusable before it is loaded (a checkpoint in a bucket whose sums do not match):
   * recorded as a skip with this reason when its turn comes, as a step whose load fails would be.
   */
  refused?: string;
}

/** One step's embeddings of the chain's points. */
export interface LoadedStep {
  /** Row-major `count × dim`. */
  embeddings: Float32Array;
  dim: number;
  /**
   * The accuracy shown with the frame: the trainer's validation accuracy when it measured one
   * (`measuredAccuracy`), else that of the model's own predictions on the points, else null.
   */
  accuracy: number | null;
  /** Whether `accuracy` is the trainer's own validation accuracy (rather than on the points). */
  measuredAccuracy: boolean;
  /**
   * What the step's model is (e.g. `blocks 1,1,1 · widths 32,64,128`), when the source knows:
   * a chain is one model, so a step of another is refused.
   */
  model?: string;
  /** Each point's predicted class, when the source has the model's logits. */
  predictions?: Uint8Array;
  /**
   * The embeddings are already 2-D, the user's own projection: drawn as given (normalised and
   * aligned to the previous frame), not reduced by t-SNE.
   */
  givenProjection?: boolean;
}

/** Times a part of loading as the report's `load` or `embed` stage (and lets tests stop there). */
export type StageTimer = <T>(stage: 'load' | 'embed', work: () => Promise<T>) => Promise<T>;

export interface Source {
  /** A short name for messages (`checkpoints`, `projector`). */
  readonly name: string;
  /** The chains under `logdir` with at least one step, ordered by run then tag; `run`: only that run. */
  listChains(logdir: string, run?: string): Promise<ChainKey[]>;
  /** The steps of a chain that are complete now, ascending. */
  listSteps(logdir: string, chain: ChainKey): Promise<StepRef[]>;
  /**
   * The chain's fixed points. Called before anything is created in the chain's folder, so a wrong
   * `--data` fails first; a source may share one set between chains.
   */
  points(logdir: string, chain: ChainKey): Promise<PointSet>;
  /**
   * One step's embeddings. Throws `UserError` when the step cannot be used (a damaged or
   * unreadable file): the watcher records it as skipped. `TransientError`: tried again later.
   */
  load(logdir: string, chain: ChainKey, step: StepRef, points: PointSet, stage: StageTimer): Promise<LoadedStep>;
  /** Calls `onChange` when something under `logdir` may be a new chain or step; returns a closer. */
  watch(logdir: string, onChange: () => void, run?: string): { close(): Promise<void> };
  /** Frees models and workers. */
  dispose(): Promise<void>;
}

/** The name a chain has in messages and reports: the run, plus the tag when it has one. */
export function chainName(chain: ChainKey): string {
  return chain.tag === undefined ? chain.run : `${chain.run} [${chain.tag}]`;
}
