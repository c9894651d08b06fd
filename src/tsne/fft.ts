/**
 * The 2-D FFT of a square power-of-two grid (row-major, split real/imaginary Float64Arrays), in
 * place, for a linear convolution whose input and wanted output both sit in the first `used` rows
 * and columns (the rest is zero padding of the circulant embedding).
 *
 * Both passes walk memory in order: a row transform works on one contiguous row, and the column
 * transforms of all columns run together as butterflies between whole rows (the inner loop runs
 * along a row). Transforming each column on its own, gathered with a stride of a row, missed the
 * cache on every element and cost 5–10× more on grids of 1,024². Padding is skipped where it is
 * known: the forward row pass runs only over the `used` rows that hold input, and the inverse row
 * pass only over the `used` rows that are read back. Twiddles are tabulated per stage, once per size.
 */

export class Fft2d {
  readonly size: number;
  /** cos / sin of π j / half for each stage `half` = 1, 2, 4, …, at offset half − 1. */
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly reversed: Uint32Array;

  constructor(size: number) {
    if (size < 2 || (size & (size - 1)) !== 0) throw new RangeError(`FFT size must be a power of two, got ${size}`);
    this.size = size;
    this.cos = new Float64Array(size);
    this.sin = new Float64Array(size);
    for (let half = 1; half < size; half *= 2) {
      for (let j = 0; j < half; j++) {
        this.cos[half - 1 + j] = Math.cos((Math.PI * j) / half);
        this.sin[half - 1 + j] = Math.sin((Math.PI * j) / half);
      }
    }
    const bits = Math.log2(size);
    this.reversed = new Uint32Array(size);
    for (let t = 0; t < size; t++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((t >> b) & 1) << (bits - 1 - b);
      this.reversed[t] = r;
    }
  }

  /** Forward transform (e^{−i…}) of a grid whose rows from `used` on are zero. */
  forward(re: Float64Array, im: Float64Array, used = this.size): void {
    for (let r = 0; r < used; r++) this.transformRow(re, im, r * this.size, -1);
    this.transformColumns(re, im, -1);
  }

  /**
   * Inverse transform (e^{+i…}, unscaled: the result is size² times the inverse DFT); only the
   * first `used` rows of the result are computed, the others are left as intermediate values.
   */
  inverse(re: Float64Array, im: Float64Array, used = this.size): void {
    this.transformColumns(re, im, 1);
    for (let r = 0; r < used; r++) this.transformRow(re, im, r * this.size, 1);
  }

  /** In-place radix-2 transform of re/im[offset, offset + size); `sign` −1 forward, +1 inverse. */
  private transformRow(re: Float64Array, im: Float64Array, offset: number, sign: number): void {
    const { size, cos, sin, reversed } = this;
    for (let t = 0; t < size; t++) {
      const r = reversed[t];
      if (r > t) {
        const a = offset + t;
        const b = offset + r;
        const tr = re[a];
        re[a] = re[b];
        re[b] = tr;
        const ti = im[a];
        im[a] = im[b];
        im[b] = ti;
      }
    }
    const end = offset + size;
    for (let a = offset; a < end; a += 2) {
      const xr = re[a + 1];
      const xi = im[a + 1];
      re[a + 1] = re[a] - xr;
      im[a + 1] = im[a] - xi;
      re[a] += xr;
      im[a] += xi;
    }
    for (let half = 2; half < size; half *= 2) {
      for (let start = offset; start < end; start += 2 * half) {
        for (let j = 0; j < half; j++) {
          const wr = cos[half - 1 + j];
          const wi = sign * sin[half - 1 + j];
          const a = start + j;
          const b = a + half;
          const br = re[b];
          const bi = im[b];
          const xr = br * wr - bi * wi;
          const xi = br * wi + bi * wr;
          re[b] = re[a] - xr;
          im[b] = im[a] - xi;
          re[a] += xr;
          im[a] += xi;
        }
      }
    }
  }

  /** The radix-2 transform of every column at once: each butterfly combines two whole rows. */
  private transformColumns(re: Float64Array, im: Float64Array, sign: number): void {
    const { size, cos, sin, reversed } = this;
    for (let t = 0; t < size; t++) {
      const r = reversed[t];
      if (r > t) {
        const a = t * size;
        const b = r * size;
        for (let c = 0; c < size; c++) {
          const tr = re[a + c];
          re[a + c] = re[b + c];
          re[b + c] = tr;
          const ti = im[a + c];
          im[a + c] = im[b + c];
          im[b + c] = ti;
        }
      }
    }
    for (let half = 1; half < size; half *= 2) {
      for (let start = 0; start < size; start += 2 * half) {
        for (let j = 0; j < half; j++) {
          const wr = cos[half - 1 + j];
          const wi = sign * sin[half - 1 + j];
          const a = (start + j) * size;
          const b = a + half * size;
          for (let c = 0; c < size; c++) {
            const br = re[b + c];
            const bi = im[b + c];
            const xr = br * wr - bi * wi;
            const xi = br * wi + bi * wr;
            re[b + c] = re[a + c] - xr;
            im[b + c] = im[a + c] - xi;
            re[a + c] += xr;
            im[a + c] += xi;
          }
        }
      }
    }
  }
}
