/**
 * Conv2DBackpropFilter for the webgpu backend as a tiled implicit GEMM with split-K.
 *
 * dw[kh, kw, ci, co] = Σ_{b,oy,ox} x[b, oy·sh + kh − pt, ox·sw + kw − pl, ci] · dy[b, oy, ox, co]
 * is C = A·B with M = kh·kw·ci rows (the filter taps), N = co columns and K = batch·outH·outW:
 * A[m, k] is the x patch value (zero outside the image), B[k, n] = dy read as a [K, N] matrix.
 * The filter layout [kh, kw, ci, co] is exactly C in row-major order.
 *
 * M and N are small (≤ 7·7·3 or 9·C rows, C columns) while K reaches batch·32·32, so an output
 * tile alone gives far too few workgroups: K is cut into `splits` chunks, each workgroup sums
 * one chunk for one 64 × TN tile (16 k at a time through workgroup memory), writes a partial
 * result, and a second program adds the partials. tfjs's own `Conv2DDerFilterProgram` loops
 * over all of K in every thread of one output element (85 % of a training step on an H200).
 */
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { int, type WebGpuBackendLike, type WebGpuProgram } from './program.ts';

type Shape4D = [number, number, number, number];

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: Shape4D;
}

const THREADS = 256;
const TILE_M = 64;
const TILE_K = 16;
/** Enough workgroups to keep a large GPU busy (an H100 has 132 multiprocessors). */
const TARGET_WORKGROUPS = 1024;
/** A chunk shorter than this spends more on its partial sums than on its products. */
const MIN_K_PER_SPLIT = 8 * TILE_K;

/** Columns per tile: as many as fit N, so narrow layers (16 channels) waste no threads. */
export function tileColumns(n: number): 16 | 32 | 64 {
  return n <= 16 ? 16 : n <= 32 ? 32 : 64;
}

export interface SplitPlan {
  tilesM: number;
  tilesN: number;
  splits: number;
  kPerSplit: number;
}

/** How K is cut: enough chunks for ~TARGET_WORKGROUPS workgroups, none shorter than MIN_K_PER_SPLIT. */
export function planSplits(m: number, n: number, k: number): SplitPlan {
  const tilesM = Math.ceil(m / TILE_M);
  const tilesN = Math.ceil(n / tileColumns(n));
  const wanted = Math.ceil(TARGET_WORKGROUPS / (tilesM * tilesN));
  const most = Math.max(1, Math.floor(k / MIN_K_PER_SPLIT));
  const first = Math.max(1, Math.min(wanted, most));
  const kPerSplit = Math.ceil(Math.ceil(k / first) / TILE_K) * TILE_K;
  return { tilesM, tilesN, splits: Math.ceil(k / kPerSplit), kPerSplit };
}

class FilterGradGemmProgram implements WebGpuProgram {
  variableNames = ['x', 'dy'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  uniforms =
    'M : i32, N : i32, K : i32, inC : i32, filterW : i32, outH : i32, outW : i32, inH : i32, inW : i32, ' +
    'strideH : i32, strideW : i32, padTop : i32, padLeft : i32, kPerSplit : i32, iterations : i32,';
  private readonly tileN: number;

  constructor(outputShape: number[], plan: SplitPlan, tileN: number) {
    this.outputShape = outputShape;
    this.tileN = tileN;
    const last = outputShape.length - 1;
    // Not used for indexing (the shader writes flat indices) but tfjs needs a non-flat layout
    // so that it calls main() once per invocation rather than main(globalIndex).
    this.dispatchLayout = { x: [last], y: outputShape.map((_, i) => i).slice(0, last) };
    this.dispatch = [plan.tilesN, plan.tilesM, plan.splits];
    this.shaderKey = `etlFilterGradGemm_${tileN}`;
  }

  getUserCode(): string {
    const tn = this.tileN;
    const threadsX = tn / 4; // each thread owns 4 adjacent columns
    const rowsPerThread = TILE_M / (THREADS / threadsX);
    const loadsA = (TILE_K * TILE_M) / THREADS;
    const loadsB = Math.ceil((TILE_K * tn) / THREADS);
    return `
var<workgroup> tileA : array<f32, ${TILE_K * TILE_M}>;
var<workgroup> tileB : array<f32, ${TILE_K * tn}>;

fn main() {
  let tid = i32(localIndex);
  let tx = tid % ${threadsX};
  let ty = tid / ${threadsX};
  let nBase = i32(workgroupId.x) * ${tn};
  let mBase = i32(workgroupId.y) * ${TILE_M};
  let split = i32(workgroupId.z);
  let kStart = split * uniforms.kPerSplit;
  let kEnd = min(kStart + uniforms.kPerSplit, uniforms.K);

  // The A column this thread loads is the same on every step: one filter tap (kh, kw, ci).
  let loadM = tid % ${TILE_M};
  let m = mBase + loadM;
  let ci = m % uniforms.inC;
  let tap = m / uniforms.inC;
  let kw = tap % uniforms.filterW;
  let kh = tap / uniforms.filterW;
  let mValid = m < uniforms.M;

  var acc : array<vec4<f32>, ${rowsPerThread}>;
  for (var i = 0; i < ${rowsPerThread}; i++) { acc[i] = vec4<f32>(0.0); }

  // The trip count comes from uniforms only, so the barriers stay in uniform control flow.
  for (var step = 0; step < uniforms.iterations; step++) {
    let k0 = kStart + step * ${TILE_K};
    for (var r = 0; r < ${loadsA}; r++) {
      let kk = tid / ${TILE_M} + r * ${THREADS / TILE_M};
      let k = k0 + kk;
      var value = 0.0;
      if (mValid && k < kEnd) {
        let ox = k % uniforms.outW;
        let rest = k / uniforms.outW;
        let oy = rest % uniforms.outH;
        let b = rest / uniforms.outH;
        let iy = oy * uniforms.strideH - uniforms.padTop + kh;
        let ix = ox * uniforms.strideW - uniforms.padLeft + kw;
        if (iy >= 0 && iy < uniforms.inH && ix >= 0 && ix < uniforms.inW) {
          value = x[((b * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC + ci];
        }
      }
      tileA[kk * ${TILE_M} + loadM] = value;
    }
    for (var r = 0; r < ${loadsB}; r++) {
      let index = tid + r * ${THREADS};
      if (index < ${TILE_K * tn}) {
        let kk = index / ${tn};
        let nn = index % ${tn};
        let k = k0 + kk;
        var value = 0.0;
        if (nBase + nn < uniforms.N && k < kEnd) {
          value = dy[k * uniforms.N + nBase + nn];
        }
        tileB[index] = value;
      }
    }
    workgroupBarrier();
    for (var kk = 0; kk < ${TILE_K}; kk++) {
      let col = kk * ${tn} + tx * 4;
      let b = vec4<f32>(tileB[col], tileB[col + 1], tileB[col + 2], tileB[col + 3]);
      for (var i = 0; i < ${rowsPerThread}; i++) {
        acc[i] = acc[i] + tileA[kk * ${TILE_M} + ty * ${rowsPerThread} + i] * b;
      }
    }
    workgroupBarrier();
  }

  let base = split * uniforms.M * uniforms.N;
  for (var i = 0; i < ${rowsPerThread}; i++) {
    let row = mBase + ty * ${rowsPerThread} + i;
    if (row < uniforms.M) {
      for (var j = 0; j < 4; j++) {
        let col = nBase + tx * 4 + j;
        if (col < uniforms.N) { result[base + row * uniforms.N + col] = acc[i][j]; }
      }
    }
  }
}
`;
  }
}

/** Adds the `splits` partial results: out[i] = Σ_s partial[s, i]. */
class SumPartialsProgram implements WebGpuProgram {
  variableNames = ['partial'];
  outputShape: number[];
  shaderKey = 'etlSumPartials';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  uniforms = 'splits : i32,';
  size = true;

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    const count = outputShape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(count / 64), 1, 1];
  }

  getUserCode(): string {
    return `
fn main(index : i32) {
  if (index < uniforms.size) {
    var total = 0.0;
    for (var s = 0; s < uniforms.splits; s++) { total = total + partial[s * uniforms.size + index]; }
    setOutputAtIndex(index, total);
  }
}
`;
  }
}

/** Runs the GEMM (and the partial sums); `stock` handles what it does not (NCHW). */
export function makeConv2DBackpropFilterWebGpu(stock: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as unknown as WebGpuBackendLike;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as FilterGradAttrs;
    if (a.dataFormat === 'NCHW' || x.dtype !== 'float32') return stock(args);
    const info = backend_util.computeConv2DInfo(
      x.shape as Shape4D,
      a.filterShape,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const m = info.filterHeight * info.filterWidth * info.inChannels;
    const n = info.outChannels;
    const k = info.batchSize * info.outHeight * info.outWidth;
    const plan = planSplits(m, n, k);
    const tileN = tileColumns(n);
    const filterShape = [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels];
    const direct = plan.splits === 1;
    const gemm = new FilterGradGemmProgram(direct ? filterShape : [plan.splits, m * n], plan, tileN);
    const uniforms = [
      int(m),
      int(n),
      int(k),
      int(info.inChannels),
      int(info.filterWidth),
      int(info.outHeight),
      int(info.outWidth),
      int(info.inHeight),
      int(info.inWidth),
      int(info.strideHeight),
      int(info.strideWidth),
      int(info.padInfo.top),
      int(info.padInfo.left),
      int(plan.kPerSplit),
      int(plan.kPerSplit / TILE_K),
    ];
    const partial = backend.runWebGPUProgram(gemm, [x, dy], 'float32', uniforms);
    if (direct) return partial;
    const sum = new SumPartialsProgram(filterShape);
    const total = backend.runWebGPUProgram(sum, [partial], 'float32', [int(plan.splits)]);
    backend.disposeData(partial.dataId);
    return total;
  };
  return { kernelName: 'Conv2DBackpropFilter', backendName: 'webgpu', kernelFunc };
}
