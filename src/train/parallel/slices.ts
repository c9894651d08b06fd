/**
 * How a batch is shared among worker threads, and how many workers a run uses.
 *
 * Pure arithmetic, no threads: the trainer and the benchmark call it, the tests check it alone.
 */

/** Every worker gets at least this many images of a batch: fewer make batch norm's statistics noisy. */
export const MIN_IMAGES_PER_WORKER = 16;

/** Backends whose kernels run on one thread, so that more threads mean more speed. */
const THREADABLE_BACKENDS = new Set(['wasm', 'cpu']);

export interface Slice {
  /** Position of the slice's first image in the batch. */
  start: number;
  count: number;
}

/**
 * Cuts `count` images into at most `workers` contiguous slices whose sizes differ by at most
 * one, the larger ones first. A batch smaller than `workers` (an epoch's last one) leaves the
 * remaining workers without a slice rather than with an empty one.
 */
export function planSlices(count: number, workers: number): Slice[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`a batch needs at least one image, got ${count}`);
  if (!Number.isInteger(workers) || workers < 1)
    throw new RangeError(`workers must be a whole number >= 1, got ${workers}`);
  const used = Math.min(count, workers);
  const base = Math.floor(count / used);
  const larger = count % used;
  const slices: Slice[] = [];
  let start = 0;
  for (let w = 0; w < used; w++) {
    const size = base + (w < larger ? 1 : 0);
    slices.push({ start, count: size });
    start += size;
  }
  return slices;
}

export interface WorkerChoice {
  workers: number;
  /** One line for the log: how many, and why when it is not what was asked for. */
  reason: string;
}

export interface WorkerChoiceInput {
  /** `--workers`; undefined: as many as the process may use. */
  asked?: number;
  batchSize: number;
  /** `os.availableParallelism()`. */
  cores: number;
  /** The tfjs backend name (`wasm`, `cpu`, `webgpu`, `tensorflow`). */
  backend: string;
}

/**
 * The number of worker threads a run trains on: `asked`, or one per core, capped so that every
 * worker gets at least `MIN_IMAGES_PER_WORKER` images of a batch. 1 means the single-thread
 * path (no workers). Backends that already use every core (native TensorFlow) or a GPU get 1.
 */
export function chooseWorkerCount({ asked, batchSize, cores, backend }: WorkerChoiceInput): WorkerChoice {
  if (asked !== undefined && (!Number.isInteger(asked) || asked < 1))
    throw new RangeError(`workers must be a whole number >= 1, got ${asked}`);
  if (asked === 1) return { workers: 1, reason: '1 (asked for with --workers 1: the single-thread path)' };
  if (!THREADABLE_BACKENDS.has(backend)) {
    const asking = asked !== undefined ? `--workers ${asked} asked for, but ` : '';
    return {
      workers: 1,
      reason: `1 (${asking}the ${backend} backend runs on its own threads or device; worker threads are for wasm)`,
    };
  }
  const wanted = asked ?? Math.max(1, cores);
  const byBatch = Math.max(1, Math.floor(batchSize / MIN_IMAGES_PER_WORKER));
  const workers = Math.min(wanted, byBatch);
  const source = asked !== undefined ? `asked for with --workers` : `one per core, ${cores} available`;
  if (workers < wanted) {
    return {
      workers,
      reason:
        `${workers} (${wanted} ${asked !== undefined ? 'asked for' : 'cores'}, clamped so that each gets ` +
        `>= ${MIN_IMAGES_PER_WORKER} images of a batch of ${batchSize})`,
    };
  }
  return { workers, reason: `${workers} (${source})` };
}
