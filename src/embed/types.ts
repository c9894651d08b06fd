/**
 * What every inference engine offers the watcher and the benchmark: load a checkpoint, then turn
 * model input (NHWC float32 in [-1, 1]) into embeddings and logits.
 */
export interface EmbedResult {
  /** Row-major `n × embeddingSize` (128 for the seed's model). */
  embeddings: Float32Array;
  /** Row-major `n × numClasses`. */
  logits: Float32Array;
}

export interface Embedder {
  /** Which engine runs the forward pass, e.g. `onnxruntime` or `tfjs-wasm`. */
  readonly name: string;
  /** One line: why this engine (and what was passed over). */
  readonly reason: string;
  /** Loads (or replaces) the model from a checkpoint directory. */
  load(checkpointDir: string): Promise<void>;
  /** Forward pass over `n` images, `input.length === n * 32 * 32 * 3`, in batches. */
  embed(input: Float32Array, n: number): Promise<EmbedResult>;
  /** Frees the model and the engine's memory; the embedder cannot be used afterwards. */
  dispose(): Promise<void>;
}

const IMAGE_VALUES = 32 * 32 * 3;
/** Images per forward pass: large enough for efficient convolutions, small enough for memory. */
export const DEFAULT_BATCH_SIZE = 256;

/** Checks an `embed` call's arguments (a programming error, not a user's). */
function checkEmbedInput(input: Float32Array, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`embed: n must be a non-negative integer, got ${n}`);
  if (input.length !== n * IMAGE_VALUES) {
    throw new Error(
      `embed: input has ${input.length} values, expected n × 32 × 32 × 3 = ${n * IMAGE_VALUES} for n = ${n}`,
    );
  }
}

/** Runs `forward` over consecutive batches and concatenates its rows. */
export async function embedInBatches(
  input: Float32Array,
  n: number,
  batchSize: number,
  sizes: { embeddingSize: number; numClasses: number },
  forward: (batch: Float32Array, count: number) => Promise<EmbedResult>,
): Promise<EmbedResult> {
  checkEmbedInput(input, n);
  const embeddings = new Float32Array(n * sizes.embeddingSize);
  const logits = new Float32Array(n * sizes.numClasses);
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const batch = input.subarray(start * IMAGE_VALUES, (start + count) * IMAGE_VALUES);
    const out = await forward(batch, count);
    embeddings.set(out.embeddings.subarray(0, count * sizes.embeddingSize), start * sizes.embeddingSize);
    logits.set(out.logits.subarray(0, count * sizes.numClasses), start * sizes.numClasses);
  }
  return { embeddings, logits };
}
