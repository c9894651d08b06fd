/**
 * Conv2DBackpropFilter for the wasm backend, which has none (so stock tfjs cannot train a convnet
 * there).
 *
 * dw[a, b, ci, co] = Σ_{n,i,j} x[n, i·s + a − pt, j·s + b − pl, ci] · dy[n, i, j, co]
 * is itself a forward convolution once batch and channels trade places: with
 *   x' = x transposed to [inC, H, W, N]   (inC plays the batch, N the channels)
 *   g  = dy transposed to [Ho, Wo, N, outC] (the "filter")
 * conv2d(x', g, dilation = s) has output [inC, fh, fw, outC], which transposes to dw.
 * Two transposes and one convolution, all native wasm kernels.
 */
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2d, cropSpatial, free, transpose } from './wasm_calls.ts';


const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW') throw new Error("wasm Conv2DBackpropFilter supports only dataFormat 'NHWC'");
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Padding after, chosen so the output is exactly fh × fw; negative means "input rows the forward
  // convolution never reached", dropped by computing them and cropping (rare: 'valid' + stride).
  const bottom = fh - 1 + (info.outHeight - 1) * sh + 1 - info.inHeight - top;
  const right = fw - 1 + (info.outWidth - 1) * sw + 1 - info.inWidth - left;

  // (Splitting the batch into cache-sized chunks was measured: 2–10× slower, so one convolution.)
  const xT = transpose(wasm, x, [3, 1, 2, 0]);
  const dyT = transpose(wasm, dy, [1, 2, 0, 3]);
  let grad = conv2d(wasm, xT, dyT, [[top, Math.max(bottom, 0)], [left, Math.max(right, 0)]], [sh, sw]);
  free(wasm, xT, dyT);
  grad = cropSpatial(wasm, grad, 0, 0, fh, fw);
  const dw = transpose(wasm, grad, [1, 2, 0, 3]);
  free(wasm, grad);
  return dw;
};

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm,
};
