/**
 * The per-frame work the daemon calls but does not know the inside of. `createStages`
 * (real-stages.ts) joins the real loader, embedder, t-SNE worker and Procrustes alignment; tests
 * pass their own, so discovery, ordering, state and crash safety can be checked quickly.
 */

/** The fixed validation images every frame embeds: the same points, in the same order. */
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
  /** The predicted class of each point (argmax of the logits), when the embedder has logits. */
  predictions?: Uint8Array;
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

export interface FrameQuality {
  knnPreservation: number;
  neighborhoodHit: number;
  /** Mean distance each point moved from the previous frame (0 for the first frame). */
  displacement: number;
}

export interface FrameStages {
  /** Once per watcher: the validation subset of `size` images chosen with `seed`. */
  validation(size: number, seed: number): Promise<ValidationSet>;
  /** Loads a checkpoint's model; throws when the checkpoint is unusable. */
  load(checkpointDir: string): Promise<CheckpointInfo>;
  /** Embeds the validation set with the model loaded last; throws when the model is unusable. */
  embed(validation: ValidationSet): Promise<Embedded>;
  /** t-SNE of the embeddings, started from `init` (the previous frame) or PCA when null. */
  project(
    embedded: Embedded,
    count: number,
    init: Float64Array | null,
    options: { seed: number; perplexity: number },
  ): Promise<ProjectedFrame>;
  /** The new frame rotated onto the previous one. */
  align(positions: Float64Array, previous: Float64Array): Float64Array;
  /** Quality measures of the aligned frame. */
  measure(
    embedded: Embedded,
    count: number,
    positions: Float64Array,
    previous: Float64Array | null,
    labels: Uint8Array,
    projected: ProjectedFrame,
  ): FrameQuality;
  /** Frees models and workers. */
  dispose(): Promise<void>;
}
