/**
 * Work cut into items that the threads of `TsneThreads` claim one at a time from a shared
 * counter, instead of a fixed share per thread. With fixed shares every thread waits for the one
 * the machine held up (measured: ./threads.ts, `SPIN_MS`, and docs/speed.md); claimed items let
 * the others take its work over. Each item writes only its own results, so the answer is the same
 * whichever thread computed which item.
 *
 * The Barnes-Hut gradient's items are fixed by N alone: ranges of tree positions for the repulsion
 * (every thread builds the same tree), then ranges of P's rows (with about equal non-zeros) for
 * the attraction. Each writes its own points' forces and its own partial sum, and the partial sums
 * are added in item order, so the gradient is the same for any thread count.
 */
import type { Affinities } from './affinities.ts';
import { AttractionKernel } from './force-kernel.ts';
import { attractRows } from './gradient.ts';
import { QuadTree } from './quadtree.ts';

/** Runs `work(item)` for each item claimed from `cursor` (slot 0) until all `count` are taken. */
export function claimItems(cursor: Int32Array, count: number, work: (item: number) => void): void {
  for (let item = Atomics.add(cursor, 0, 1); item < count; item = Atomics.add(cursor, 0, 1)) work(item);
}

/** Points per item, about: small enough to even out the threads, large enough that claiming costs nothing. */
const POINTS_PER_ITEM = 64;
/** At most this many items of each kind. */
const MAX_ITEMS = 256;

/** What every thread sees of one embedding's gradient: P and the splits copied, the rest in shared memory. */
export interface SharedGradient {
  n: number;
  rowPtr: Int32Array;
  colIndex: Int32Array;
  values: Float64Array;
  positions: Float64Array;
  attractive: Float64Array;
  repulsive: Float64Array;
  /** Tree positions of each repulsion item: item r covers [treeSplit[r], treeSplit[r + 1]). */
  treeSplit: Int32Array;
  /** Rows of each attraction item: item a covers [rowSplit[a], rowSplit[a + 1]). */
  rowSplit: Int32Array;
  /** Z of each repulsion item, then the log term of each attraction item. */
  partial: Float64Array;
  /** The next unclaimed item (slot 0). */
  cursor: Int32Array;
}

/** What each thread keeps of one embedding's gradient: the shared part, its own tree and its copy of P. */
export class ThreadGradient {
  readonly tree = new QuadTree();
  readonly attraction: AttractionKernel;
  constructor(readonly shared: SharedGradient) {
    this.attraction = new AttractionKernel(shared);
  }
}

/** Item boundaries of a gradient of P: `[treeSplit, rowSplit]`. */
export function gradientItemSplits(P: Pick<Affinities, 'n' | 'rowPtr'>): [Int32Array, Int32Array] {
  const { n } = P;
  const items = Math.max(1, Math.min(MAX_ITEMS, Math.round(n / POINTS_PER_ITEM)));
  const treeSplit = new Int32Array(items + 1);
  for (let item = 1; item <= items; item++) treeSplit[item] = Math.floor((item * n) / items);
  return [treeSplit, splitRows(P, items)];
}

/**
 * Rows of P split into `parts` ranges with about the same number of non-zeros each, or, with
 * `firstShare`, the first range holding that fraction of them and the others the rest in equal parts.
 */
export function splitRows(P: Pick<Affinities, 'n' | 'rowPtr'>, parts: number, firstShare = 1 / parts): Int32Array {
  const n = P.n;
  const split = new Int32Array(parts + 1);
  const nnz = P.rowPtr[n];
  for (let w = 1, i = 0; w < parts; w++) {
    const target = nnz * (firstShare + ((1 - firstShare) * (w - 1)) / (parts - 1));
    while (i < n && P.rowPtr[i] < target) i++;
    split[w] = i;
  }
  split[parts] = n;
  return split;
}

/**
 * One thread's part of a gradient: builds its tree over the positions and hands them to its
 * attraction kernel, then claims items until none is left.
 */
export function computeClaimedItems(
  thread: ThreadGradient,
  exaggeration: number,
  theta: number,
  withLogTerm: boolean,
): void {
  const { shared: g, tree, attraction } = thread;
  const repulsionItems = g.treeSplit.length - 1;
  const items = repulsionItems + g.rowSplit.length - 1;
  tree.build(g.positions, g.n);
  attraction.setPositions(g.positions);
  claimItems(g.cursor, items, (item) => {
    if (item < repulsionItems) {
      g.partial[item] = tree.repulsion(theta, g.repulsive, g.treeSplit[item], g.treeSplit[item + 1]);
    } else {
      const a = item - repulsionItems;
      const [from, to] = [g.rowSplit[a], g.rowSplit[a + 1]];
      g.partial[item] = attractRows(attraction, g, g.positions, exaggeration, g.attractive, withLogTerm, from, to);
    }
  });
}

/** Z and the log term of a gradient whose items are all done, added in item order. */
export function sumItems(g: SharedGradient): { z: number; logTerm: number } {
  const repulsionItems = g.treeSplit.length - 1;
  let z = 0;
  let logTerm = 0;
  for (let item = 0; item < g.partial.length; item++) {
    if (item < repulsionItems) z += g.partial[item];
    else logTerm += g.partial[item];
  }
  return { z, logTerm };
}
