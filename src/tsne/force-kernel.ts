/**
 * The gradient's two inner loops in WebAssembly (./force-kernel.wat, SIMD): the Barnes-Hut
 * repulsion of a group of points from its interaction list (`QuadTree`; float32, four lanes at a
 * time), and the attraction along the rows of P (float64, two lanes). Each instance has its own
 * memory: every thread makes its own. Where WebAssembly cannot reserve its memory, the same loops
 * run in JavaScript (./wasm.ts), the repulsion's sums there in float64.
 *
 * Why not plain JavaScript: measured here on a 10,000-point layout, one thread, the attraction
 * (1.08 M non-zeros of P) took 6.6–9.0 ms in JavaScript and 2.5–2.9 ms here; see `QuadTree` for
 * the repulsion. The attraction is the same to the bit as `attractiveForces` (which the iterations
 * that report KL still use).
 *
 * Why float32 for the repulsion: its sum was the larger part of an iteration, and four lanes do it
 * about 1.5 times as fast as two of float64 (0.80 against 1.23 ns per pair and point, a list of
 * 1,000 entries). The list and each point are taken relative to the group's centre, so a near
 * pair's difference keeps float32's precision; measured against float64, a point's force differs
 * by about 1e-6 of its size, far below the Barnes-Hut approximation's own error (about 1e-3).
 */
import { growTo, instantiateKernel, loadKernelModule, type KernelMemory } from './wasm.ts';

const MODULE = loadKernelModule('force-kernel');

/** The kernel's functions; all pointers are byte offsets. */
interface KernelExports {
  memory: KernelMemory;
  group_repulsion(
    xs: number,
    ys: number,
    from: number,
    to: number,
    list: number,
    blocks: number,
    out: number,
    originX: number,
    originY: number,
  ): number;
  attraction(
    rowPtr: number,
    cols: number,
    vals: number,
    Y: number,
    out: number,
    from: number,
    to: number,
    exaggeration: number,
  ): void;
}

/** force-kernel.wat's loops in JavaScript, for where WebAssembly is not available. */
function javascriptKernel(memory: KernelMemory): Omit<KernelExports, 'memory'> {
  return {
    // In float64, over the kernel's float32 list: within about 1e-6 of each force of the kernel's
    // float32 sums, and four times as fast as rounding every step to float32 to match them.
    group_repulsion(xs, ys, from, to, list, blocks, out, originX, originY) {
      const values = new Float64Array(memory.buffer);
      const entries = new Float32Array(memory.buffer);
      let total = 0;
      for (let q = from; q < to; q++) {
        const xi = values[xs / 8 + q] - originX;
        const yi = values[ys / 8 + q] - originY;
        let fx = 0;
        let fy = 0;
        let z = 0;
        for (let b = list / 4, end = b + 12 * blocks; b < end; b += 12) {
          for (let lane = 0; lane < 4; lane++) {
            const dx = xi - entries[b + lane];
            const dy = yi - entries[b + 4 + lane];
            const w = 1 / (1 + (dx * dx + dy * dy));
            const cw = entries[b + 8 + lane] * w;
            z += cw;
            fx += cw * w * dx;
            fy += cw * w * dy;
          }
        }
        values[out / 8 + 2 * (q - from)] = fx;
        values[out / 8 + 2 * (q - from) + 1] = fy;
        total += z - 1;
      }
      return total;
    },
    attraction(rowPtr, cols, vals, Y, out, from, to, exaggeration) {
      const values = new Float64Array(memory.buffer);
      const ints = new Int32Array(memory.buffer);
      for (let i = from; i < to; i++) {
        const xi = values[Y / 8 + 2 * i];
        const yi = values[Y / 8 + 2 * i + 1];
        let fx = 0;
        let fy = 0;
        for (let e = ints[rowPtr / 4 + i], end = ints[rowPtr / 4 + i + 1]; e < end; e++) {
          const j = ints[cols / 4 + e];
          const dx = xi - values[Y / 8 + 2 * j];
          const dy = yi - values[Y / 8 + 2 * j + 1];
          const f = values[vals / 8 + e] * (1 / (1 + dx * dx + dy * dy));
          fx += f * dx;
          fy += f * dy;
        }
        values[out / 8 + 2 * i] = exaggeration * fx;
        values[out / 8 + 2 * i + 1] = exaggeration * fy;
      }
    },
  };
}

/**
 * The points of a Barnes-Hut tree in tree order (`xs`, `ys`) and one group's interaction list,
 * written by the tree walk with `setEntry`, relative to the origin `groupRepulsion` is given.
 */
export class RepulsionKernel {
  private kernel = instantiateKernel<KernelExports>(MODULE, javascriptKernel, 0);
  private n = -1;
  private listCapacity = 0;
  xs = new Float64Array(0);
  ys = new Float64Array(0);
  /** The interaction list: blocks of four entries, x0..x3 y0..y3 c0..c3. */
  private list = new Float32Array(0);
  private out = new Float64Array(0);

  /** Room for n points (their positions are then written to `xs` and `ys`). */
  setPointCount(n: number): void {
    if (n === this.n) return;
    this.n = n;
    this.layOut(Math.max(this.listCapacity, 1024));
  }

  /** Room for `entries` list entries, keeping those written (and the padding to a block of four). */
  reserveList(entries: number): void {
    if (entries > this.listCapacity) this.layOut(Math.max(entries, 2 * this.listCapacity));
  }

  /**
   * List entry e: a cell's centre of mass (or a point), relative to the group's origin, and the
   * points it stands for.
   */
  setEntry(e: number, x: number, y: number, count: number): void {
    const at = (e >> 2) * 12 + (e & 3);
    this.list[at] = x;
    this.list[at + 4] = y;
    this.list[at + 8] = count;
  }

  /**
   * The repulsion of tree positions [from, to) from the first `length` list entries, written
   * relative to (originX, originY): writes each point's (Σ c w² dx, Σ c w² dy) to the returned
   * view (interleaved, valid until the next call) and returns Σ (Σ c w − 1) over the points.
   */
  groupRepulsion(
    from: number,
    to: number,
    length: number,
    originX: number,
    originY: number,
  ): { forces: Float64Array; z: number } {
    for (let e = length; e & 3; e++) this.setEntry(e, 0, 0, 0);
    const { xs, ys, list, out } = this.offsets();
    const blocks = (length + 3) >> 2;
    const z = this.kernel.group_repulsion(xs, ys, from, to, list, blocks, out, originX, originY);
    return { forces: this.out.subarray(0, 2 * (to - from)), z };
  }

  private offsets() {
    const xs = 0;
    const ys = xs + 8 * this.n;
    const out = ys + 8 * this.n;
    const list = out + 16 * this.n;
    return { xs, ys, out, list, end: list + 12 * this.listCapacity };
  }

  /** Regions for n points and `capacity` list entries (a multiple of 4); what is in them stays. */
  private layOut(capacity: number): void {
    this.listCapacity = Math.ceil(capacity / 4) * 4;
    const { ys, out, list, end } = this.offsets();
    growTo(this.kernel.memory, end);
    const buffer = this.kernel.memory.buffer;
    this.xs = new Float64Array(buffer, 0, this.n);
    this.ys = new Float64Array(buffer, ys, this.n);
    this.out = new Float64Array(buffer, out, 2 * this.n);
    this.list = new Float32Array(buffer, list, 3 * this.listCapacity);
  }
}

/** P (CSR) copied into a kernel's memory once, and the positions each gradient. */
export class AttractionKernel {
  private readonly kernel: KernelExports;
  private readonly offsets: { rowPtr: number; cols: number; vals: number; Y: number; out: number };
  private readonly positions: Float64Array;
  private readonly out: Float64Array;

  constructor(P: { n: number; rowPtr: Int32Array; colIndex: Int32Array; values: Float64Array }) {
    const { n, rowPtr, colIndex, values } = P;
    const nnz = rowPtr[n];
    const cols = 4 * (n + 1);
    const vals = Math.ceil((cols + 4 * nnz) / 16) * 16;
    const Y = vals + 8 * nnz;
    const out = Y + 16 * n;
    this.kernel = instantiateKernel<KernelExports>(MODULE, javascriptKernel, out + 16 * n);
    this.offsets = { rowPtr: 0, cols, vals, Y, out };
    const buffer = this.kernel.memory.buffer;
    new Int32Array(buffer, 0, n + 1).set(rowPtr);
    new Int32Array(buffer, cols, nnz).set(colIndex.subarray(0, nnz));
    new Float64Array(buffer, vals, nnz).set(values.subarray(0, nnz));
    this.positions = new Float64Array(buffer, Y, 2 * n);
    this.out = new Float64Array(buffer, out, 2 * n);
  }

  /** The positions the next `forces` calls use (x, y interleaved). */
  setPositions(Y: Float64Array): void {
    this.positions.set(Y.subarray(0, this.positions.length));
  }

  /** α Σ_j p_ij w_ij (y_i − y_j) of rows [from, to) into `out`: `attractiveForces` without the log term. */
  forces(exaggeration: number, out: Float64Array, from: number, to: number): void {
    const { rowPtr, cols, vals, Y } = this.offsets;
    this.kernel.attraction(rowPtr, cols, vals, Y, this.offsets.out, from, to, exaggeration);
    out.set(this.out.subarray(2 * from, 2 * to), 2 * from);
  }
}
