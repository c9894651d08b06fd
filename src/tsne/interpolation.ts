/**
 * The repulsive half of the t-SNE gradient by FFT-accelerated interpolation (Linderman et al.,
 * "Fast interpolation-based t-SNE", Nature Methods 2019; FIt-SNE and openTSNE implement it).
 *
 * The layout's square bounding box is cut into equal intervals per axis, each with `p` equispaced
 * interpolation nodes. Four charges per point (1, x, y, x² + y²) are spread onto the nodes with
 * Lagrange weights, convolved with the squared Cauchy kernel 1 / (1 + r²)² by FFT (the node grid is
 * uniform, so the kernel matrix is Toeplitz and embeds in a circulant twice the size), and
 * interpolated back. From the four potentials φ follow, per point,
 *   Σ_j w_ij² (y_i − y_j) = y_i φ₁ − φ_(x, y)   and   Σ_j w_ij = (1 + |y_i|²) φ₁ − 2 y_i·φ_(x, y) + φ_|y|²,
 * the point's own term (w_ii = 1) dropping out of the first and being subtracted from Z.
 * The cost is O(N p²) for the spreading plus the FFTs of a grid whose side grows with the layout's
 * extent (nodes per unit stay fixed for accuracy), against Barnes-Hut's O(N log N), which does not
 * depend on the scale. So it wins while a large layout is compact (early exaggeration, the start
 * of a warm frame: a 256² grid) and loses once the layout has spread out (a converged 10,000-point
 * layout spans about 200 units: a 2,048² grid); gradient.ts's `cheaperRepulsion` chooses.
 */
import { Fft2d } from './fft.ts';

export interface InterpolationOptions {
  /** Interpolation nodes per interval and axis (FIt-SNE's default 3). */
  nodesPerInterval?: number;
  /**
   * Fewest intervals per axis: 40, where FIt-SNE has 50. FIt-SNE's FFT takes any size, so its 50
   * cost a 300² transform; ours is radix-2, where 50 intervals of 3 nodes need a 512² grid and 40
   * fit in 256² (4× cheaper). Measured on real 10,000-point layouts after the early phase (extent
   * 4–12): relative error of the repulsion 3.5e-4 at 256² against 7.4e-3 for Barnes-Hut (θ = 0.5).
   */
  minIntervals?: number;
  /**
   * Intervals per unit of the layout's extent: 2, where FIt-SNE has 1. On the 500-point test layout
   * near convergence, 1 per unit gave a gradient 4× further from the exact one than Barnes-Hut's
   * (θ = 0.5); 2 per unit is closer than Barnes-Hut.
   */
  intervalsPerUnit?: number;
}

/** One FFT size's buffers, and the kernel's spectrum for the interval width it was last built for. */
interface Grid {
  fft: Fft2d;
  /** Charges 1 and x (real, imaginary), then y and x² + y²: two real signals per complex transform. */
  a: [Float64Array, Float64Array];
  b: [Float64Array, Float64Array];
  /** The kernel's spectrum (real: the kernel is real and even) for `kernelWidth` and `kernelNodes`. */
  kernel: Float64Array;
  kernelWidth: number;
  kernelNodes: number;
}

/**
 * Interval widths are rounded up to this ladder (2^(k/8)), so that from one iteration to the next
 * the width, and with it the kernel's spectrum, mostly stays the same and is reused: the layout
 * grows by well under 9 % per iteration.
 */
const WIDTH_STEPS_PER_OCTAVE = 8;

/**
 * The largest grid side: five 2,048² grids take 160 MB, a 4,096² one would need 670 MB and 7–10 s
 * per evaluation here. 2,048² still holds 5 nodes per unit across an extent of 200, about
 * Barnes-Hut's accuracy on a converged 10,000-point layout; wider layouts get coarser intervals.
 */
const MAX_GRID_SIZE = 2048;

/** The smallest coordinate and the side of the square that holds the layout (both axes). */
export function layoutExtent(Y: Float64Array, n: number): { lo: number; extent: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < 2 * n; t++) {
    if (Y[t] < lo) lo = Y[t];
    if (Y[t] > hi) hi = Y[t];
  }
  return { lo, extent: Math.max(hi - lo, 1e-9) };
}

export class FftRepulsion {
  readonly p: number;
  readonly minIntervals: number;
  readonly intervalsPerUnit: number;
  private readonly grids = new Map<number, Grid>();
  private readonly denominators: Float64Array;
  private weightsX = new Float64Array(0);
  private weightsY = new Float64Array(0);
  private nodeX = new Int32Array(0);
  private nodeY = new Int32Array(0);

  constructor(options: InterpolationOptions = {}) {
    this.p = options.nodesPerInterval ?? 3;
    this.minIntervals = options.minIntervals ?? 40;
    this.intervalsPerUnit = options.intervalsPerUnit ?? 2;
    this.denominators = new Float64Array(this.p);
    for (let j = 0; j < this.p; j++) {
      let den = 1;
      for (let k = 0; k < this.p; k++) if (k !== j) den *= (j - k) / this.p;
      this.denominators[j] = den;
    }
  }

  /**
   * The side of the FFT grid for a layout of this extent: the power of two that holds the
   * circulant (≥ 2m − 1 for m nodes per axis) of the intervals asked for, at most
   * `MAX_GRID_SIZE`. Its cost, not N, is what the interpolation's time depends on.
   */
  gridSize(extent: number): number {
    const needed = Math.max(this.minIntervals, Math.ceil(extent * this.intervalsPerUnit));
    let size = 2;
    while (size < 2 * needed * this.p && size < MAX_GRID_SIZE) size *= 2;
    return size;
  }

  private grid(size: number): Grid {
    let grid = this.grids.get(size);
    if (grid === undefined) {
      const make = () => new Float64Array(size * size);
      grid = {
        fft: new Fft2d(size),
        a: [make(), make()],
        b: [make(), make()],
        kernel: make(),
        kernelWidth: 0,
        kernelNodes: 0,
      };
      this.grids.set(size, grid);
    }
    return grid;
  }

  /** Writes Σ_j w_ij² (y_i − y_j) for every point into `forces` (interleaved); returns Z = Σ_{i≠j} w_ij. */
  repulsion(Y: Float64Array, n: number, forces: Float64Array): number {
    const p = this.p;
    const { lo, extent } = layoutExtent(Y, n);
    // The intervals are as many as the FFT size allows, which costs nothing and helps accuracy,
    // with their width rounded up to the ladder so the kernel's spectrum can be reused.
    const size = this.gridSize(extent);
    const room = Math.floor((size + 1) / (2 * p));
    const h = 2 ** (Math.ceil(Math.log2(extent / room) * WIDTH_STEPS_PER_OCTAVE) / WIDTH_STEPS_PER_OCTAVE);
    const intervals = Math.min(room, Math.ceil(extent / h));
    const m = intervals * p;
    const grid = this.grid(size);
    this.locate(Y, n, lo, h, intervals);
    if (grid.kernelWidth !== h || grid.kernelNodes !== m) this.kernelSpectrum(grid, size, m, h);
    const { weightsX, weightsY, nodeX, nodeY } = this;
    const [aRe, aIm] = grid.a;
    const [bRe, bIm] = grid.b;
    for (const array of [aRe, aIm, bRe, bIm]) array.fill(0);
    for (let i = 0; i < n; i++) {
      const x = Y[2 * i];
      const y = Y[2 * i + 1];
      const r2 = x * x + y * y;
      for (let ky = 0; ky < p; ky++) {
        const row = (nodeY[i] + ky) * size + nodeX[i];
        const wy = weightsY[i * p + ky];
        for (let kx = 0; kx < p; kx++) {
          const w = wy * weightsX[i * p + kx];
          aRe[row + kx] += w;
          aIm[row + kx] += w * x;
          bRe[row + kx] += w * y;
          bIm[row + kx] += w * r2;
        }
      }
    }
    const kernel = grid.kernel;
    for (const [re, im] of [grid.a, grid.b]) {
      grid.fft.forward(re, im, m);
      for (let t = 0; t < size * size; t++) {
        re[t] *= kernel[t];
        im[t] *= kernel[t];
      }
      grid.fft.inverse(re, im, m);
    }
    const scale = 1 / (size * size);
    let z = 0;
    for (let i = 0; i < n; i++) {
      let phi1 = 0;
      let phiX = 0;
      let phiY = 0;
      let phiR = 0;
      for (let ky = 0; ky < p; ky++) {
        const row = (nodeY[i] + ky) * size + nodeX[i];
        const wy = weightsY[i * p + ky];
        for (let kx = 0; kx < p; kx++) {
          const w = wy * weightsX[i * p + kx];
          phi1 += w * aRe[row + kx];
          phiX += w * aIm[row + kx];
          phiY += w * bRe[row + kx];
          phiR += w * bIm[row + kx];
        }
      }
      phi1 *= scale;
      phiX *= scale;
      phiY *= scale;
      phiR *= scale;
      const x = Y[2 * i];
      const y = Y[2 * i + 1];
      forces[2 * i] = x * phi1 - phiX;
      forces[2 * i + 1] = y * phi1 - phiY;
      z += (1 + x * x + y * y) * phi1 - 2 * (x * phiX + y * phiY) + phiR;
    }
    return z - n;
  }

  /** Each point's first node per axis and its p Lagrange weights per axis. */
  private locate(Y: Float64Array, n: number, lo: number, h: number, intervals: number): void {
    const p = this.p;
    if (this.nodeX.length !== n) {
      this.nodeX = new Int32Array(n);
      this.nodeY = new Int32Array(n);
      this.weightsX = new Float64Array(n * p);
      this.weightsY = new Float64Array(n * p);
    }
    for (let i = 0; i < n; i++) {
      for (let axis = 0; axis < 2; axis++) {
        const u = (Y[2 * i + axis] - lo) / h;
        const box = Math.min(Math.floor(u), intervals - 1);
        const local = u - box;
        const weights = axis === 0 ? this.weightsX : this.weightsY;
        (axis === 0 ? this.nodeX : this.nodeY)[i] = box * p;
        for (let j = 0; j < p; j++) {
          let num = 1;
          for (let k = 0; k < p; k++) if (k !== j) num *= local - (k + 0.5) / p;
          weights[i * p + j] = num / this.denominators[j];
        }
      }
    }
  }

  /**
   * The FFT of the circulant embedding of K(Δ) = 1 / (1 + |Δ|² δ²)² over node offsets |Δ| < m, for
   * intervals of width h (node spacing δ = h / p).
   * The kernel is real and even, so its spectrum is real: the imaginary part is rounding.
   */
  private kernelSpectrum(grid: Grid, size: number, m: number, h: number): void {
    const spacing = h / this.p;
    const re = grid.kernel;
    const im = grid.a[1];
    re.fill(0);
    im.fill(0);
    const s2 = spacing * spacing;
    for (let dy = -(m - 1); dy < m; dy++) {
      const row = ((dy + size) % size) * size;
      for (let dx = -(m - 1); dx < m; dx++) {
        const q = 1 / (1 + (dx * dx + dy * dy) * s2);
        re[row + ((dx + size) % size)] = q * q;
      }
    }
    grid.fft.forward(re, im);
    grid.kernelWidth = h;
    grid.kernelNodes = m;
  }
}
