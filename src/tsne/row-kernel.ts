/**
 * The rows of a neighbour search as float32 in WebAssembly memory, with the search's inner loops
 * over them (./row-kernel.wat): the squared distances from one row to a list of rows, and the dot
 * products of a vector with a list of rows, four lanes at a time (WebAssembly SIMD, which every
 * Node from 16.4 runs); and the heap of a row's k nearest among such a list (`nearest`).
 *
 * Why not plain JavaScript: V8 runs such a loop one double at a time. Measured here, one 128-d
 * squared distance to a row at a random place among 10,000: 300–370 ns in a JavaScript loop
 * (Float64Array or Float32Array, four accumulators), 43–44 ns with this kernel; to the next row
 * in memory 190–330 ns against 22–24 ns. The sums are float32 (relative error about 1e-6 at
 * 128-d), as FIt-SNE's and Annoy's are. The heap was JavaScript too (heap.ts's `keepNearest`, still
 * the fallback's): kept in the kernel, the exact search of 2,000 rows takes 144–146 ms instead of
 * 171–174, the forest's search of 10,000 rows 419–429 instead of 462–463 (one thread, best of 3).
 *
 * Each thread makes its own (a copy of the rows, 512 bytes per 128-d row). Where WebAssembly
 * cannot reserve its memory, the same loops run in JavaScript (./wasm.ts).
 */
import { keepNearest } from './heap.ts';
import { instantiateKernel, loadKernelModule, type KernelMemory } from './wasm.ts';

const MODULE = loadKernelModule('row-kernel');

/** The kernel's functions; all offsets are in bytes. */
interface KernelExports {
  memory: KernelMemory;
  distances(query: number, rows: number, stride: number, ids: number, count: number, out: number): void;
  dots(vector: number, rows: number, stride: number, ids: number, count: number, out: number): void;
  nearest(
    query: number,
    rows: number,
    stride: number,
    ids: number,
    count: number,
    self: number,
    k: number,
    heapDist: number,
    heapIds: number,
    out: number,
  ): void;
}

/** row-kernel.wat's loops in JavaScript, for where WebAssembly is not available. */
function javascriptKernel(memory: KernelMemory): Omit<KernelExports, 'memory'> {
  const visit = (
    vector: number,
    rows: number,
    stride: number,
    ids: number,
    count: number,
    out: number,
    term: (a: number, b: number) => number,
  ): void => {
    const floats = new Float32Array(memory.buffer);
    const listed = new Int32Array(memory.buffer, ids, count);
    const width = stride / 4;
    for (let c = 0; c < count; c++) {
      const row = (rows + listed[c] * stride) / 4;
      let sum = 0;
      for (let t = 0; t < width; t++) sum += term(floats[vector / 4 + t], floats[row + t]);
      floats[out / 4 + c] = sum;
    }
  };
  const squaredDistance = (a: number, b: number) => (a - b) * (a - b);
  return {
    distances: (query, rows, stride, ids, count, out) => visit(query, rows, stride, ids, count, out, squaredDistance),
    dots: (vector, rows, stride, ids, count, out) => visit(vector, rows, stride, ids, count, out, (a, b) => a * b),
    nearest(query, rows, stride, ids, count, self, k, heapDist, heapIds, out) {
      visit(query, rows, stride, ids, count, out, squaredDistance);
      const measured = new Float32Array(memory.buffer, out, count).slice();
      const candidates = new Int32Array(memory.buffer, ids, count).slice();
      // Left out as the kernel leaves it out: Infinity never enters the heap.
      for (let c = 0; c < count; c++) if (candidates[c] === self) measured[c] = Infinity;
      const distances = new Float64Array(k);
      const indices = new Int32Array(k);
      keepNearest(measured, candidates, count, k, 0, indices, distances);
      new Float32Array(memory.buffer, heapDist, k).set(distances);
      new Int32Array(memory.buffer, heapIds, k).set(indices);
    },
  };
}

/** Bytes per row: the kernel reads 32 bytes (eight floats) per step. */
function rowStride(d: number): number {
  return Math.ceil(d / 8) * 32;
}

export class RowKernel {
  /** The rows the kernel reads from, each padded with zeros to `stride / 4` floats. */
  readonly rows: Float32Array;
  /** The list of rows the next `distances` or `dots` call visits (its first `count` entries). */
  readonly ids: Int32Array;
  private readonly results: Float32Array;
  private readonly vector: Float32Array;
  private readonly kernel: KernelExports;
  private readonly stride: number;
  private readonly offsets: { ids: number; results: number; vector: number; heapDist: number; heapIds: number };
  private readonly heapDist: Float32Array;
  private readonly heapIds: Int32Array;

  constructor(
    X: ArrayLike<number>,
    readonly n: number,
    readonly d: number,
  ) {
    this.stride = rowStride(d);
    const floatsPerRow = this.stride / 4;
    const idsAt = n * this.stride;
    const resultsAt = idsAt + 4 * n;
    const vectorAt = resultsAt + 4 * n;
    // A heap of up to n − 1 nearest.
    const heapDistAt = vectorAt + this.stride;
    const heapIdsAt = heapDistAt + 4 * n;
    this.kernel = instantiateKernel<KernelExports>(MODULE, javascriptKernel, heapIdsAt + 4 * n);
    const memory = this.kernel.memory;
    this.offsets = { ids: idsAt, results: resultsAt, vector: vectorAt, heapDist: heapDistAt, heapIds: heapIdsAt };
    this.heapDist = new Float32Array(memory.buffer, heapDistAt, n);
    this.heapIds = new Int32Array(memory.buffer, heapIdsAt, n);
    this.rows = new Float32Array(memory.buffer, 0, n * floatsPerRow);
    this.ids = new Int32Array(memory.buffer, idsAt, n);
    this.results = new Float32Array(memory.buffer, resultsAt, n);
    this.vector = new Float32Array(memory.buffer, vectorAt, floatsPerRow);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < d; t++) this.rows[i * floatsPerRow + t] = X[i * d + t];
    }
  }

  /** Where row i starts in `rows`. */
  rowStart(i: number): number {
    return (i * this.stride) / 4;
  }

  /** Squared distances from row `query` to rows ids[0, count), in that order (a view, valid until the next call). */
  distances(query: number, count: number): Float32Array {
    const { ids, results } = this.offsets;
    this.kernel.distances(query * this.stride, 0, this.stride, ids, count, results);
    return this.results.subarray(0, count);
  }

  /**
   * Row `query`'s k nearest among rows ids[0, count), leaving out row `self` (−1: none), into row
   * query's k slots of `indices`/`distances` as a max-heap (`sortHeaps` orders it): the kernel
   * measures each distance and keeps the heap, as `keepNearest` does over `distances`' list.
   */
  nearest(query: number, count: number, k: number, self: number, indices: Int32Array, distances: Float64Array): void {
    const { ids, heapDist, heapIds, results } = this.offsets;
    this.kernel.nearest(query * this.stride, 0, this.stride, ids, count, self, k, heapDist, heapIds, results);
    for (let slot = 0; slot < k; slot++) {
      distances[query * k + slot] = this.heapDist[slot];
      indices[query * k + slot] = this.heapIds[slot];
    }
  }

  /** `vector` · row for rows ids[0, count), in that order (a view, valid until the next call). */
  dots(vector: ArrayLike<number>, count: number): Float32Array {
    for (let t = 0; t < this.d; t++) this.vector[t] = vector[t];
    const { ids, results } = this.offsets;
    this.kernel.dots(this.offsets.vector, 0, this.stride, ids, count, results);
    return this.results.subarray(0, count);
  }
}
