/**
 * A flat Barnes-Hut quadtree over 2-D points (struct of arrays, rebuilt every iteration) and the
 * repulsive half of the t-SNE gradient it approximates.
 *
 * Nodes live in parallel typed arrays; a node's children are stored next to each other and only
 * non-empty quadrants get a node, so a traversal is an index walk with no allocation. Points are
 * reordered (`order`) so every node covers a contiguous range, which also makes the per-point
 * loop visit spatial neighbours one after another (cache friendly). The sum over a group's
 * interaction list runs in WebAssembly (./force-kernel.ts). Measured on a 10,000-point layout, one
 * build and repulsion took 13–14.5 ms (build 1.8–2.0, repulsion 11.2–12.5) with that sum in
 * JavaScript, and 7.6–8.0 ms with it in WebAssembly (float64) and the larger groups below; on
 * another day, 6.3–6.6 ms with the float64 sum and 5.2–5.8 ms with the float32 one.
 */
import { RepulsionKernel } from './force-kernel.ts';

/**
 * Points per leaf and points that share one tree walk and interaction list. With the list's sum in
 * WebAssembly the walk is the dearer part, so groups are larger than a plain loop wants. One build
 * and repulsion, best of 5, real layouts of 10,000 points (std 40 and 5) and 2,000 (std 20):
 * leaf 4, group 16 (the best with the sum in JavaScript): 11.3, 11.5 and 1.85 ms; leaf 8, group 32:
 * 8.3, 8.4, 1.45; leaf 8, group 64: 7.6–8.0, 7.6–7.7, 1.26–1.28; group 128 the same, 256 slower.
 * With the sum in float32 (best of 8, the layouts of a cold run after 250 and 550 iterations,
 * 10,000 points and shared frame 09): leaf 8, group 64: 5.5, 5.3, 0.89, 0.91 ms; group 128: 5.2,
 * 4.9, 0.86, 0.84; group 256: 5.6, 5.6, 0.92, 0.96; leaf 16 or 4 with group 64 or 128: slower.
 * A larger group only makes the opening test more cautious (distance to the group's box).
 */
const LEAF_SIZE = 8;
const GROUP_SIZE = 128;
/**
 * Bits per axis of a point's cell code (`cellCode`): cells halve down to 2^-16 of the root's side,
 * where the points left share one leaf (duplicates, or nearly: summed one by one).
 */
const CODE_BITS = 16;
const LAST_CELL = (1 << CODE_BITS) - 1;
/** Bits of the code sorted per pass of `sortByCode`. */
const DIGIT_BITS = 11;
const DIGIT_MASK = (1 << DIGIT_BITS) - 1;
const MAX_DEPTH = CODE_BITS;

/** Leaf and group sizes; the defaults were the fastest measured at N = 2,000 and 10,000 (above). */
export interface QuadTreeOptions {
  leafSize?: number;
  groupSize?: number;
}

export class QuadTree {
  readonly leafSize: number;
  readonly groupSize: number;
  nodeCount = 0;
  private capacity = 0;
  comX = new Float64Array(0);
  comY = new Float64Array(0);
  /** Squared side length of each node's cell. */
  size2 = new Float64Array(0);
  count = new Int32Array(0);
  /** Index of the first child node, or −1 for a leaf. */
  firstChild = new Int32Array(0);
  childCount = new Uint8Array(0);
  /** Range of `order` covered by the node. */
  start = new Int32Array(0);
  end = new Int32Array(0);
  order = new Int32Array(0);
  private stack = new Int32Array(4 * MAX_DEPTH + 8);
  private walkStack = new Int32Array(4 * MAX_DEPTH + 8);
  /** Each point's cell code, in tree order after the build, and the radix sort's buffers. */
  private codes = new Uint32Array(0);
  private codeScratch = new Uint32Array(0);
  private orderScratch = new Int32Array(0);
  private digitCounts = new Int32Array(DIGIT_MASK + 2);
  /** Per depth of the build, the five bounds of a node's quadrants in the sorted points. */
  private quadrantBounds = new Int32Array(5 * (MAX_DEPTH + 1));
  /** The positions in tree order and a group's interaction list. */
  private kernel = new RepulsionKernel();

  constructor(options: QuadTreeOptions = {}) {
    this.leafSize = options.leafSize ?? LEAF_SIZE;
    this.groupSize = options.groupSize ?? GROUP_SIZE;
  }

  /**
   * Rebuilds the tree over the interleaved positions Y (length 2n); reuses the arrays. The points
   * are sorted by their cells' Morton codes (`cellCode`), so every node is a range of the sorted
   * points and its four quadrants are consecutive ranges within it: a radix sort and binary
   * searches, where partitioning the points around each node's centre took three passes over them
   * per level (best of 5 × 20 builds, real layouts: 10,000 points 1.63–2.10 ms → 0.92–1.03 ms, 2,000
   * points 0.33 → 0.19 ms; the same nodes).
   */
  build(Y: Float64Array, n: number): void {
    if (this.order.length !== n) {
      this.order = new Int32Array(n);
      this.codes = new Uint32Array(n);
    }
    this.ensureCapacity(Math.max(16, 2 * n));
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = Y[2 * i];
      const y = Y[2 * i + 1];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    // A square root cell, slightly padded so points on the far edge fall inside.
    const half = (Math.max(maxX - minX, maxY - minY) / 2) * (1 + 1e-9) + 1e-300;
    const left = (minX + maxX) / 2 - half;
    const bottom = (minY + maxY) / 2 - half;
    const cellsPerUnit = (1 << CODE_BITS) / (2 * half);
    for (let i = 0; i < n; i++) {
      this.order[i] = i;
      this.codes[i] = cellCode((Y[2 * i] - left) * cellsPerUnit, (Y[2 * i + 1] - bottom) * cellsPerUnit);
    }
    this.sortByCode(n);
    this.sortPositions(Y, n);
    this.nodeCount = 1;
    this.buildNode(0, 0, n, half, 0);
  }

  /**
   * Orders `codes` (and `order` with them) by code: a stable radix sort, 11 bits per pass (three
   * passes over the 32 bits: 0.42 ms at 10,000 points, against 0.52 ms for four passes of 8).
   */
  private sortByCode(n: number): void {
    if (this.codeScratch.length !== n) {
      this.codeScratch = new Uint32Array(n);
      this.orderScratch = new Int32Array(n);
    }
    const counts = this.digitCounts;
    for (let shift = 0; shift < 32; shift += DIGIT_BITS) {
      const { codes, order, codeScratch, orderScratch } = this;
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[((codes[i] >>> shift) & DIGIT_MASK) + 1]++;
      for (let digit = 0; digit < DIGIT_MASK; digit++) counts[digit + 1] += counts[digit];
      for (let i = 0; i < n; i++) {
        const to = counts[(codes[i] >>> shift) & DIGIT_MASK]++;
        codeScratch[to] = codes[i];
        orderScratch[to] = order[i];
      }
      [this.codes, this.codeScratch, this.order, this.orderScratch] = [codeScratch, codes, orderScratch, order];
    }
  }

  /** Positions in tree order: group members and leaf contents are contiguous in memory. */
  private sortPositions(Y: Float64Array, n: number): void {
    this.kernel.setPointCount(n);
    const { xs, ys } = this.kernel;
    const order = this.order;
    for (let q = 0; q < n; q++) {
      xs[q] = Y[2 * order[q]];
      ys[q] = Y[2 * order[q] + 1];
    }
  }

  private ensureCapacity(nodes: number): void {
    if (nodes <= this.capacity) return;
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(old: T, make: (size: number) => T): T => {
      const next = make(nodes);
      next.set(old.subarray(0, this.nodeCount) as never);
      return next;
    };
    this.comX = grow(this.comX, (s) => new Float64Array(s));
    this.comY = grow(this.comY, (s) => new Float64Array(s));
    this.size2 = grow(this.size2, (s) => new Float64Array(s));
    this.count = grow(this.count, (s) => new Int32Array(s));
    this.firstChild = grow(this.firstChild, (s) => new Int32Array(s));
    this.childCount = grow(this.childCount, (s) => new Uint8Array(s));
    this.start = grow(this.start, (s) => new Int32Array(s));
    this.end = grow(this.end, (s) => new Int32Array(s));
    this.capacity = nodes;
  }

  /** Node `node` over the sorted points [from, to), whose cell has side 2·half at `depth`. */
  private buildNode(node: number, from: number, to: number, half: number, depth: number): void {
    this.start[node] = from;
    this.end[node] = to;
    this.count[node] = to - from;
    this.size2[node] = 4 * half * half;
    const { xs, ys } = this.kernel;
    if (to - from <= this.leafSize || depth >= MAX_DEPTH) {
      let sx = 0;
      let sy = 0;
      for (let q = from; q < to; q++) {
        sx += xs[q];
        sy += ys[q];
      }
      this.comX[node] = sx / (to - from);
      this.comY[node] = sy / (to - from);
      this.firstChild[node] = -1;
      this.childCount[node] = 0;
      return;
    }
    // The quadrants' ranges, in this depth's slots (a deeper call does not overwrite them):
    // quadrant q holds the points whose code has q in the two bits below the shared prefix.
    const bounds = this.quadrantBounds;
    const at = 5 * depth;
    const shift = 2 * (CODE_BITS - 1 - depth);
    bounds[at] = from;
    for (let q = 1; q < 4; q++) bounds[at + q] = this.firstInQuadrant(bounds[at + q - 1], to, shift, q);
    bounds[at + 4] = to;
    let children = 0;
    for (let q = 0; q < 4; q++) if (bounds[at + q + 1] > bounds[at + q]) children++;
    this.ensureCapacity(this.nodeCount + children);
    const first = this.nodeCount;
    this.nodeCount += children;
    this.firstChild[node] = first;
    this.childCount[node] = children;
    let child = first;
    let sx = 0;
    let sy = 0;
    for (let q = 0; q < 4; q++) {
      if (bounds[at + q + 1] === bounds[at + q]) continue;
      this.buildNode(child, bounds[at + q], bounds[at + q + 1], half / 2, depth + 1);
      sx += this.comX[child] * this.count[child];
      sy += this.comY[child] * this.count[child];
      child++;
    }
    this.comX[node] = sx / (to - from);
    this.comY[node] = sy / (to - from);
  }

  /** The first of the sorted points [from, to) whose quadrant (the code's bits at `shift`) is at least q. */
  private firstInQuadrant(from: number, to: number, shift: number, q: number): number {
    const codes = this.codes;
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (((codes[mid] >>> shift) & 3) < q) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Barnes-Hut estimate of the unnormalised repulsive forces: for every i,
   * rep_i = Σ_j w_ij² (y_i − y_j) with w_ij = 1 / (1 + |y_i − y_j|²), written to `forces`
   * (interleaved), and returns Z = Σ_{i≠j} w_ij.
   *
   * A cell is summarised by its centre of mass when its side is below θ times the distance to it
   * (bhtsne's criterion). Points are handled in groups (small subtrees): the tree is walked once
   * per group, measuring distance to the group's bounding box so the decision holds for every
   * member, and the resulting interaction list is then summed for each member in a tight loop.
   * This is slightly more accurate than per-point Barnes-Hut and several times cheaper.
   * The forces are those at the positions the tree was last built over. Only the groups starting
   * in tree positions [from, to) are computed (one work item of a thread), and only their points'
   * forces are written.
   */
  repulsion(theta: number, forces: Float64Array, from = 0, to = this.order.length): number {
    let zSum = 0;
    const groups = this.stack;
    let top = 0;
    groups[top++] = 0;
    // Walk down to the groups: nodes small enough to share one interaction list.
    while (top > 0) {
      const node = groups[--top];
      if (this.start[node] >= to || this.end[node] <= from) continue;
      if (this.count[node] <= this.groupSize || this.firstChild[node] < 0) {
        if (this.start[node] >= from) zSum += this.groupRepulsion(node, theta * theta, forces);
      } else {
        for (let c = this.firstChild[node], cEnd = c + this.childCount[node]; c < cEnd; c++) groups[top++] = c;
      }
    }
    return zSum;
  }

  private groupRepulsion(group: number, theta2: number, forces: Float64Array): number {
    const { comX, comY, size2, count, firstChild, childCount, start, end, order, kernel } = this;
    const { xs, ys } = kernel;
    const from = start[group];
    const to = end[group];
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let q = from; q < to; q++) {
      const x = xs[q];
      const y = ys[q];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    // Build the interaction list: summarised cells and single points (weight = count), relative to
    // the group's centre (the kernel sums in float32: ./force-kernel.ts).
    const originX = (minX + maxX) / 2;
    const originY = (minY + maxY) / 2;
    let length = 0;
    const stack = this.walkStack;
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const node = stack[--top];
      const cx = comX[node];
      const cy = comY[node];
      const gapX = cx < minX ? minX - cx : cx > maxX ? cx - maxX : 0;
      const gapY = cy < minY ? minY - cy : cy > maxY ? cy - maxY : 0;
      if (size2[node] < theta2 * (gapX * gapX + gapY * gapY)) {
        kernel.reserveList(length + 1);
        kernel.setEntry(length++, cx - originX, cy - originY, count[node]);
      } else if (firstChild[node] < 0) {
        const qEnd = end[node];
        kernel.reserveList(length + qEnd - start[node]);
        for (let q = start[node]; q < qEnd; q++) kernel.setEntry(length++, xs[q] - originX, ys[q] - originY, 1);
      } else {
        for (let c = firstChild[node], cEnd = c + childCount[node]; c < cEnd; c++) stack[top++] = c;
      }
    }
    const { forces: groupForces, z } = kernel.groupRepulsion(from, to, length, originX, originY);
    for (let q = from; q < to; q++) {
      const i = order[q];
      forces[2 * i] = groupForces[2 * (q - from)];
      forces[2 * i + 1] = groupForces[2 * (q - from) + 1];
    }
    // The list holds each point itself (every leaf of its group is expanded): w = 1, no force;
    // the kernel leaves that 1 out of z.
    return z;
  }
}

/**
 * The Morton code of the cell at (column, row) of a 2^16 × 2^16 grid over the root cell: their
 * bits interleaved, the row's above the column's, so sorting by code orders the points quadrant by
 * quadrant (lower left, lower right, upper left, upper right) at every level.
 */
function cellCode(column: number, row: number): number {
  return (spreadBits(cellIndex(row)) << 1) | spreadBits(cellIndex(column));
}

/** The cell a coordinate in cell units falls in, clamped to the grid. */
function cellIndex(v: number): number {
  const cell = Math.floor(v);
  return cell < 0 ? 0 : cell > LAST_CELL ? LAST_CELL : cell;
}

/** The 16 low bits of v moved to the even bit positions. */
function spreadBits(v: number): number {
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  return (v | (v << 1)) & 0x55555555;
}
