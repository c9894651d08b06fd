/**
 * Plain-loop convolution gradients for the wasm backend: slow, obviously right, and running
 * among the same stock wasm kernels as ours. Swapping them in isolates our kernels exactly when a
 * whole network is compared (against the cpu backend, float32 differences in other kernels grow
 * through the batch norms to ~1e-2 even with these).
 */
import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Attrs = {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number;
  dimRoundingMode?: 'floor';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
};

/** Visits every (image, output pixel, tap) that a forward convolution multiplies. */
function eachTap(
  info: backend_util.Conv2DInfo,
  visit: (xIndex: number, dyIndex: number, wIndex: number) => void,
): void {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
  } = info;
  for (let n = 0; n < batchSize; n++)
    for (let i = 0; i < outHeight; i++)
      for (let j = 0; j < outWidth; j++)
        for (let p = 0; p < filterHeight; p++)
          for (let q = 0; q < filterWidth; q++) {
            const r = i * strideHeight + p - info.padInfo.top;
            const c = j * strideWidth + q - info.padInfo.left;
            if (r < 0 || r >= inHeight || c < 0 || c >= inWidth) continue;
            visit(
              ((n * inHeight + r) * inWidth + c) * inChannels,
              ((n * outHeight + i) * outWidth + j) * outChannels,
              (p * filterWidth + q) * inChannels * outChannels,
            );
          }
}

const filterGrad: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as Attrs;
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      a.filterShape!,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const xv = wasm.readSync(x.dataId) as Float32Array;
    const dv = wasm.readSync(dy.dataId) as Float32Array;
    const out = new Float32Array(a.filterShape!.reduce((s, d) => s * d, 1));
    const { inChannels: C, outChannels: CO } = info;
    eachTap(info, (xi, di, wi) => {
      for (let ci = 0; ci < C; ci++)
        for (let co = 0; co < CO; co++) out[wi + ci * CO + co]! += xv[xi + ci]! * dv[di + co]!;
    });
    return wasm.makeOutput(a.filterShape!, 'float32', undefined, out);
  },
};

const inputGrad: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as Attrs;
    const info = backend_util.computeConv2DInfo(
      a.inputShape!,
      filter.shape as [number, number, number, number],
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const wv = wasm.readSync(filter.dataId) as Float32Array;
    const dv = wasm.readSync(dy.dataId) as Float32Array;
    const out = new Float32Array(a.inputShape!.reduce((s, d) => s * d, 1));
    const { inChannels: C, outChannels: CO } = info;
    eachTap(info, (xi, di, wi) => {
      for (let ci = 0; ci < C; ci++) {
        let sum = 0;
        for (let co = 0; co < CO; co++) sum += wv[wi + ci * CO + co]! * dv[di + co]!;
        out[xi + ci]! += sum;
      }
    });
    return wasm.makeOutput(a.inputShape!, 'float32', undefined, out);
  },
};

/** Runs `fn` with the reference kernels in place of whatever is registered, then restores them. */
export async function withReferenceKernels<T>(fn: () => Promise<T>): Promise<T> {
  const saved = [filterGrad, inputGrad].map((config) => getKernel(config.kernelName, 'wasm'));
  for (const config of [filterGrad, inputGrad]) {
    if (getKernel(config.kernelName, 'wasm')) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
  try {
    return await fn();
  } finally {
    for (const [i, config] of [filterGrad, inputGrad].entries()) {
      unregisterKernel(config.kernelName, 'wasm');
      if (saved[i]) registerKernel(saved[i]!);
    }
  }
}
