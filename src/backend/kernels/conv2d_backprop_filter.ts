/**
 * Conv2DBackpropFilter for the wasm backend, which has none (so stock tfjs cannot train a convnet
 * there).
 *
 * dw[a, b, ci, co] = Σ_{n,i,j} x[n, i·s + a − pt, j·s + b − pl, ci] · dy[n, i, j, co]
 * is itself a forward convolution once batch and channels trade places: with
 *   x' = x transposed to [inC, H, W, N]   (inC plays the batch, N the channels)
 *   g  = dy transposed to [Ho, Wo, N, outC] (the "filter")
 * conv2d(x', g, dilation = s) has output [inC, fh, fw, outC], which transposes to dw.
 *
 * That convolution's "filter" is the whole batch of dy (8 MB for a stage-1 layer at batch 256)
 * and XNNPACK streams it once per few output rows. So the batch is cut into chunks of a few
 * images whose dy fits in the L2 cache: x and dy are transposed ONCE into chunk-major
 * layouts ([G, inC, H, W, n] and [G, Ho, Wo, n, outC], G·n = N), each chunk is a view into those
 * buffers (no copies), and the G small results are summed.
 */
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  conv2d,
  cropSpatial,
  free,
  freeView,
  transpose,
  view,
  viewFloat32,
  type ConvBackpropAttrs,
  type Shape4D,
} from './wasm_calls.ts';

/**
 * Bytes of dy per chunk: well inside a 1 MB L2 with room for the matching rows of x. Measured on
 * every layer shape of the seed ResNet at batch 256 (ms per step): whole batch 4229, 1 MB 4067,
 * 256 KB 4038, 64 KB 4625. The chunk-major transposes are also faster than whole-batch ones.
 */
let chunkBytes = 256 * 1024;

/** For tests (chunking must give the same gradient) and measurements. Returns the old value. */
export function setFilterGradientChunkBytes(bytes: number): number {
  const old = chunkBytes;
  chunkBytes = bytes;
  return old;
}

/** Images per chunk: the largest divisor of `batch` whose dy fits `chunkBytes` (at least 1). */
export function imagesPerChunk(batch: number, bytesPerImage: number, targetBytes = chunkBytes): number {
  const fit = Math.max(1, Math.floor(targetBytes / bytesPerImage));
  for (let n = Math.min(fit, batch); n > 1; n--) if (batch % n === 0) return n;
  return 1;
}

const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as ConvBackpropAttrs & {
    filterShape: Shape4D;
  };
  if (dataFormat === 'NCHW') throw new Error("wasm Conv2DBackpropFilter supports only dataFormat 'NHWC'");
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const {
    batchSize: batch,
    inHeight: h,
    inWidth: w,
    inChannels: inC,
    outHeight: ho,
    outWidth: wo,
    outChannels: outC,
  } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Padding after, chosen so the output is exactly fh × fw; negative means "input rows the forward
  // convolution never reached", dropped by computing them and cropping (rare: 'valid' + stride).
  const bottom = fh - 1 + (info.outHeight - 1) * sh + 1 - info.inHeight - top;
  const right = fw - 1 + (info.outWidth - 1) * sw + 1 - info.inWidth - left;
  const pads: [[number, number], [number, number]] = [
    [top, Math.max(bottom, 0)],
    [left, Math.max(right, 0)],
  ];

  const n = imagesPerChunk(batch, ho * wo * outC * 4);
  const chunks = batch / n;
  // [G, n, H·W, inC] → [G, inC, H·W, n] and [G, n, Ho·Wo, outC] → [G, Ho·Wo, n, outC]: one pass each.
  const xT = transpose(wasm, { ...x, shape: [chunks, n, h * w, inC] }, [0, 3, 2, 1]);
  const dyT = transpose(wasm, { ...dy, shape: [chunks, n, ho * wo, outC] }, [0, 2, 1, 3]);
  let grad: TensorInfo | undefined;
  for (let g = 0; g < chunks; g++) {
    const xChunk = view(wasm, xT, [inC, h, w, n], g * inC * h * w * n);
    const dyChunk = view(wasm, dyT, [ho, wo, n, outC], g * ho * wo * n * outC);
    const part = conv2d(wasm, xChunk, dyChunk, pads, [sh, sw]);
    freeView(wasm, xChunk, dyChunk);
    if (grad === undefined) {
      grad = part;
    } else {
      // The partial results are small ([inC, fh', fw', outC]); summed here, in place.
      const total = viewFloat32(wasm, grad);
      const values = viewFloat32(wasm, part);
      for (let i = 0; i < values.length; i++) total[i] += values[i]!;
      free(wasm, part);
    }
  }
  free(wasm, xT, dyT);
  grad = cropSpatial(wasm, grad!, 0, 0, fh, fw);
  const dw = transpose(wasm, grad, [1, 2, 0, 3]);
  free(wasm, grad);
  return dw;
};

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm,
};
