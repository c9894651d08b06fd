/**
 * In-place radix-2 complex FFT on split real/imaginary Float64Arrays, and the 2-D transform of a
 * square power-of-two grid built from it (rows, then columns). Small and allocation-free per
 * call: the FFT-accelerated repulsion transforms a few grids of at most 1,024² per iteration,
 * and a twiddle table per size is all the state it needs.
 */

export class Fft {
  readonly size: number;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly reversed: Uint32Array;
  private readonly columnRe: Float64Array;
  private readonly columnIm: Float64Array;

  constructor(size: number) {
    if (size < 2 || (size & (size - 1)) !== 0) throw new RangeError(`FFT size must be a power of two, got ${size}`);
    this.size = size;
    this.cos = new Float64Array(size / 2);
    this.sin = new Float64Array(size / 2);
    for (let t = 0; t < size / 2; t++) {
      this.cos[t] = Math.cos((2 * Math.PI * t) / size);
      this.sin[t] = Math.sin((2 * Math.PI * t) / size);
    }
    const bits = Math.log2(size);
    this.reversed = new Uint32Array(size);
    for (let t = 0; t < size; t++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((t >> b) & 1) << (bits - 1 - b);
      this.reversed[t] = r;
    }
    this.columnRe = new Float64Array(size);
    this.columnIm = new Float64Array(size);
  }

  /** Transforms re/im[offset, offset + size) in place; `inverse` uses e^{+i…} and does not scale. */
  transform(re: Float64Array, im: Float64Array, offset: number, inverse: boolean): void {
    const { size, cos, reversed } = this;
    const sign = inverse ? 1 : -1;
    const sin = this.sin;
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
    for (let half = 1; half < size; half *= 2) {
      const step = size / (2 * half);
      for (let start = 0; start < size; start += 2 * half) {
        for (let j = 0; j < half; j++) {
          const wr = cos[j * step];
          const wi = sign * sin[j * step];
          const a = offset + start + j;
          const b = a + half;
          const xr = re[b] * wr - im[b] * wi;
          const xi = re[b] * wi + im[b] * wr;
          re[b] = re[a] - xr;
          im[b] = im[a] - xi;
          re[a] += xr;
          im[a] += xi;
        }
      }
    }
  }

  /**
   * 2-D transform of a size × size row-major grid. Only the first `rows` rows are transformed in
   * the row pass (the others must be zero: a zero row stays zero), which saves the padding's work.
   */
  transform2d(re: Float64Array, im: Float64Array, inverse: boolean, rows = this.size): void {
    const size = this.size;
    for (let r = 0; r < rows; r++) this.transform(re, im, r * size, inverse);
    const { columnRe, columnIm } = this;
    for (let c = 0; c < size; c++) {
      for (let r = 0; r < size; r++) {
        columnRe[r] = re[r * size + c];
        columnIm[r] = im[r * size + c];
      }
      this.transform(columnRe, columnIm, 0, inverse);
      for (let r = 0; r < size; r++) {
        re[r * size + c] = columnRe[r];
        im[r * size + c] = columnIm[r];
      }
    }
  }
}
