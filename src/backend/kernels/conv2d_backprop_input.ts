/**
 * Conv2DBackpropInput for the wasm backend, as ONE forward convolution (the backend's fast path,
 * XNNPACK) instead of tfjs's scalar loop.
 *
 * Forward (one spatial axis, stride s, pad before p): y[i] = Σ_a x[i·s + a − p] · w[a].
 * So dx[q] with q + p = s·m + r (phase r < s) collects the taps a = s·k + r:
 *   dx[q] = Σ_k dy[m − k] · w[s·k + r],   k = 0 … K−1, K = ceil(f / s).
 * For every phase that is a stride-1 correlation of dy with the flipped sub-kernel w[s·k + r].
 * All s×s phases (per axis pair) become the output channels of one convolution, and
 * one transpose (DepthToSpace, written as a 4-D transpose: the stock wasm DepthToSpace is a
 * scalar loop several times slower) interleaves them into the full-resolution gradient. No zero-stuffed dy, no
 * per-phase slices; for stride 1 it is the classic "convolve with the flipped kernel".
 */
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  conv2d,
  cropSpatial,
  free,
  makeFloat32,
  transpose,
  viewFloat32,
  type ConvBackpropAttrs,
  type Shape4D,
} from './wasm_calls.ts';

/** How one spatial axis of the input gradient maps onto the phase convolution. */
export interface AxisPlan {
  stride: number;
  /** Taps per phase: ceil(filter / stride). */
  taps: number;
  /** Padding of dy for the phase convolution (before, after), never negative. */
  pad: [number, number];
  /** Rows of the phase convolution's output to keep: [start, start + count). */
  keepStart: number;
  keepCount: number;
  /** After interleaving the phases: rows [offset, offset + size) are the gradient. */
  offset: number;
  size: number;
}

export function planAxis(
  inputSize: number,
  outputSize: number,
  filter: number,
  stride: number,
  padBefore: number,
): AxisPlan {
  const taps = Math.ceil(filter / stride);
  const firstBlock = Math.floor(padBefore / stride); // m of input row 0
  const blocks = Math.floor((inputSize - 1 + padBefore) / stride) - firstBlock + 1;
  const before = taps - 1 - firstBlock;
  const after = blocks - 1 + taps - outputSize - before;
  return {
    stride,
    taps,
    pad: [Math.max(before, 0), Math.max(after, 0)],
    keepStart: Math.max(-before, 0),
    keepCount: blocks,
    offset: padBefore - stride * firstBlock,
    size: inputSize,
  };
}

/**
 * The phase filter [Kh, Kw, outC, sh·sw·inC] from w [fh, fw, inC, outC]:
 * V[th, tw, co, (rh·sw + rw)·inC + ci] = w[sh·(Kh−1−th) + rh, sw·(Kw−1−tw) + rw, ci, co], 0 past the edge.
 * Filters are small (≤ 0.6 MB here), so a plain loop costs far less than the convolution.
 */
export function phaseFilter(
  w: Float32Array,
  fh: number,
  fw: number,
  inC: number,
  outC: number,
  rows: AxisPlan,
  cols: AxisPlan,
  out: Float32Array,
): void {
  const { stride: sh, taps: kh } = rows;
  const { stride: sw, taps: kw } = cols;
  const phaseChannels = sh * sw * inC;
  out.fill(0);
  for (let th = 0; th < kh; th++) {
    for (let rh = 0; rh < sh; rh++) {
      const a = sh * (kh - 1 - th) + rh;
      if (a >= fh) continue;
      for (let tw = 0; tw < kw; tw++) {
        for (let rw = 0; rw < sw; rw++) {
          const b = sw * (kw - 1 - tw) + rw;
          if (b >= fw) continue;
          const channelBase = (rh * sw + rw) * inC;
          for (let ci = 0; ci < inC; ci++) {
            const src = ((a * fw + b) * inC + ci) * outC;
            let dst = (th * kw + tw) * outC * phaseChannels + channelBase + ci;
            for (let co = 0; co < outC; co++, dst += phaseChannels) out[dst] = w[src + co];
          }
        }
      }
    }
  }
}

const conv2DBackpropInputWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as ConvBackpropAttrs & {
    inputShape: Shape4D;
  };
  if (dataFormat === 'NCHW') throw new Error("wasm Conv2DBackpropInput supports only dataFormat 'NHWC'");
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { filterHeight: fh, filterWidth: fw, inChannels: inC, outChannels: outC } = info;
  const rows = planAxis(info.inHeight, info.outHeight, fh, info.strideHeight, info.padInfo.top);
  const cols = planAxis(info.inWidth, info.outWidth, fw, info.strideWidth, info.padInfo.left);
  const phases = rows.stride * cols.stride;

  const v = makeFloat32(wasm, [rows.taps, cols.taps, outC, phases * inC], (out) =>
    phaseFilter(viewFloat32(wasm, filter), fh, fw, inC, outC, rows, cols, out),
  );
  let result = conv2d(wasm, dy, v, [rows.pad, cols.pad]);
  free(wasm, v);
  result = cropSpatial(wasm, result, rows.keepStart, cols.keepStart, rows.keepCount, cols.keepCount);
  if (phases > 1) {
    if (rows.stride !== cols.stride) throw new Error('wasm Conv2DBackpropInput: unequal strides are not supported');
    result = interleavePhases(wasm, result, rows.stride, inC);
  }
  return cropSpatial(wasm, result, rows.offset, cols.offset, rows.size, cols.size);
};

/**
 * DepthToSpace(s) for NHWC with channels ordered (rh, rw, c): [N, H, W, s·s·C] → [N, H·s, W·s, C].
 * Since (rw, c) is contiguous, it is the transpose [N·H, W, s, s·C] → [N·H, s, W, s·C].
 */
function interleavePhases(wasm: BackendWasm, x: TensorInfo, s: number, channels: number): TensorInfo {
  const [n, h, w] = x.shape as [number, number, number, number];
  const grouped = { ...x, shape: [n * h, w, s, s * channels] };
  const moved = transpose(wasm, grouped, [0, 2, 1, 3]);
  free(wasm, x);
  return { ...moved, shape: [n, h * s, w * s, channels] };
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputWasm,
};
