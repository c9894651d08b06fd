/**
 * The per-frame work the watcher calls but does not know the inside of. A checkpoint model
 * (`CheckpointModel`) feeds the checkpoint source (sources/checkpoints.ts); the projection stages
 * (t-SNE, alignment, measures) are pure functions of their inputs. `createStages`
 * (real-stages.ts) joins the real loader, embedder, t-SNE worker and Procrustes alignment; tests
 * pass their own, so discovery, ordering, the record and crash safety can be checked quickly.
 */
import type { FrameMeasures } from './record.ts';

/** The CIFAR-10 test images a checkpoint chain plots: the same images, in the same order. */
export interface ValidationSet {
  /** NHWC RGB images of the subset only, `count × 32 × 32 × 3` (for the sprite). */
  images: Uint8Array;
  labels: Uint8Array;
  /** Each point's index in the CIFAR-10 test set. */
  testIndices: Int32Array;
  classNames: string[];
  count: number;
}

/** What the watcher learns from loading a checkpoint (the model itself stays inside the embedder). */
export interface CheckpointInfo {
  step: number;
  /** `validationAccuracy` of checkpoint.json, when the trainer measured it. */
  validationAccuracy?: number;
}

export interface Embedded {
  /** Row-major `count × dim`. */
  embeddings: Float32Array;
  dim: number;
  /** Accuracy of the checkpoint's own predictions on the subset, when the embedder has logits. */
  subsetAccuracy?: number;
  /** Each point's predicted class (argmax of the logits), when the embedder has logits. */
  predictions?: Uint8Array;
}

/** A checkpoint's model run over the plotted images. */
export interface CheckpointModel {
  /** Once per watcher: the subset of `size` CIFAR-10 test images chosen with `seed`. */
  validation(size: number, seed: number): Promise<ValidationSet>;
  /** Loads a checkpoint's model; throws when the checkpoint is unusable. */
  load(checkpointDir: string): Promise<CheckpointInfo>;
  /** Embeds `validation` (the set `validation()` returned) with the model loaded last. */
  embed(validation: ValidationSet): Promise<Embedded>;
  /** Frees models and workers. */
  dispose(): Promise<void>;
}

export interface ProjectedFrame {
  /** Normalised 2-D positions, interleaved. */
  positions: Float64Array;
  klDivergence: number;
  /**
   * 10-NN preservation, when t-SNE measured it already (it has the input-space neighbours at
   * hand); a rotation does not change it.
   */
  knnPreservation?: number;
}

/** The measures of an aligned frame (the record's measures but t-SNE's own KL and the timing). */
export type FrameQuality = Omit<FrameMeasures, 'klDivergence' | 'frameSeconds'>;

/** What every embedding goes through, whatever its source. */
export interface ProjectionStages {
  /** t-SNE of the embeddings, started from `init` (the previous frame) or PCA when null. */
  project(
    embedded: { embeddings: Float32Array; dim: number },
    count: number,
    init: Float64Array | null,
    options: { seed: number; perplexity: number },
  ): Promise<ProjectedFrame>;
  /** The new frame rotated onto the previous one. */
  align(positions: Float64Array, previous: Float64Array): Float64Array;
  /** Quality measures of the aligned frame. */
  measure(
    embedded: { embeddings: Float32Array; dim: number },
    count: number,
    positions: Float64Array,
    previous: Float64Array | null,
    labels: Uint8Array,
    projected: ProjectedFrame,
  ): FrameQuality;
}

/** A checkpoint model and the projection stages, as `createStages` and the tests make them. */
export interface FrameStages extends CheckpointModel, ProjectionStages {}
