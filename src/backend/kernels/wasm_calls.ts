/**
 * Calling the wasm backend's own kernels from inside our kernels. A kernel works on TensorInfo
 * (data ids), not tensors: ops called in here would be recorded on the gradient tape and tracked
 * by the engine, so we call the registered kernel functions directly and free what we allocate.
 */
import {
  getKernel,
  type backend_util,
  type Conv2DAttrs,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type Shape4D = [number, number, number, number];

/** The attributes tfjs passes to both convolution-gradient kernels (besides the target shape). */
export interface ConvBackpropAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function callWasmKernel(
  kernelName: string,
  backend: BackendWasm,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = getKernel(kernelName, 'wasm');
  if (kernel === undefined) throw new Error(`the wasm backend has no ${kernelName} kernel`);
  return kernel.kernelFunc({ inputs, attrs, backend }) as TensorInfo;
}

export function transpose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return callWasmKernel('Transpose', backend, { x }, { perm });
}

/** [[top, bottom], [left, right]] of a 2-D convolution. */
export type SpatialPads = [[number, number], [number, number]];

/** Forward NHWC convolution, stride 1 unless given, with explicit padding. */
export function conv2d(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  pads: SpatialPads,
  dilations: [number, number] = [1, 1],
): TensorInfo {
  const attrs: Conv2DAttrs = {
    strides: [1, 1],
    pad: [[0, 0], pads[0], pads[1], [0, 0]],
    dataFormat: 'NHWC',
    dilations,
    dimRoundingMode: undefined as unknown as 'floor',
  };
  return callWasmKernel('Conv2D', backend, { x, filter }, attrs as unknown as NamedAttrMap);
}

/** x[:, top : top + height, left : left + width, :], or x itself (no copy) when that is all of it. */
export function cropSpatial(
  backend: BackendWasm,
  x: TensorInfo,
  top: number,
  left: number,
  height: number,
  width: number,
): TensorInfo {
  const [n, h, w, c] = x.shape;
  if (top === 0 && left === 0 && height === h && width === w) return x;
  const cropped = callWasmKernel('Slice', backend, { x }, { begin: [0, top, left, 0], size: [n, height, width, c] });
  free(backend, x);
  return cropped;
}

export function free(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** A fresh float32 tensor on the wasm heap, filled by `fill` through a view of its memory. */
export function makeFloat32(backend: BackendWasm, shape: number[], fill: (values: Float32Array) => void): TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  fill(backend.typedArrayFromHeap(out) as Float32Array);
  return out;
}

/** A view of a float32 tensor's memory; valid until the next allocation on the wasm heap. */
export function viewFloat32(backend: BackendWasm, x: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(x) as Float32Array;
}

/**
 * A tensor that is a window into another's memory (`offset` in elements, float32), for handing
 * part of a buffer to a kernel without copying it. Release it with `freeView`, never `free`
 * (which would free the memory it borrows), and before the tensor it looks into.
 */
export function view(backend: BackendWasm, of: TensorInfo, shape: number[], offset: number): TensorInfo {
  const base = backend.getMemoryOffset(of.dataId);
  return backend.makeOutput(shape, 'float32', base + offset * 4);
}

export function freeView(backend: BackendWasm, ...views: TensorInfo[]): void {
  for (const info of views) {
    const data = backend.dataIdMap.get(info.dataId);
    if (data === undefined) continue;
    backend.wasm.tfjs.disposeData(data.id); // the native side's record, and operators cached for it
    backend.dataIdMap.delete(info.dataId);
  }
}
