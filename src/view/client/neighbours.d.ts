/** Types of neighbours.js for the tests that run it in Node. */
export function groupMeasures(
  positions: ArrayLike<number>,
  n: number,
  labels: ArrayLike<number>,
  members: readonly number[],
): { spread: number | null; hit: number | null };
