/** The centre of a 2-D layout (interleaved `[x0, y0, x1, y1, …]`). */

/** Mean x and mean y. */
export function centroid(Y: Float64Array): [number, number] {
  const n = Y.length / 2;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += Y[2 * i];
    my += Y[2 * i + 1];
  }
  return [mx / n, my / n];
}

/** Moves the layout to zero mean per axis, in place. */
export function centre(Y: Float64Array): void {
  const [mx, my] = centroid(Y);
  for (let i = 0; i < Y.length; i += 2) {
    Y[i] -= mx;
    Y[i + 1] -= my;
  }
}
