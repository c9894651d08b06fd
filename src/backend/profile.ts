/**
 * Time per kernel of a piece of tfjs work, for finding where a training step goes.
 *
 * On synchronous backends (wasm, cpu) every registered kernel is wrapped with a timer for the
 * duration of `fn`: exact, and free of tf.profile's per-kernel `dataSync` (which copies every
 * output and would inflate cheap kernels). Kernels that our own kernels call internally are
 * reported as `Outer>Inner`, so inclusive and inner times can both be read.
 * Other backends (webgpu) fall back to `tf.profile`, whose times come from the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  registerKernel,
  unregisterKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

export interface KernelTime {
  /** Kernel name; `Outer>Inner` for a kernel called from inside another. */
  name: string;
  calls: number;
  ms: number;
}

const SYNCHRONOUS_BACKENDS = new Set(['wasm', 'cpu']);

/** `byShape`: one row per kernel and input shapes, to see which layer a kernel's time comes from. */
export async function profileKernels(fn: () => unknown, byShape = false): Promise<KernelTime[]> {
  const backend = tf.getBackend();
  if (!SYNCHRONOUS_BACKENDS.has(backend)) return profileWithTf(fn);
  const totals = new Map<string, KernelTime>();
  const stack: string[] = [];
  const originals = tf.getKernelsForBackend(backend).map((config) => ({ ...config }));
  const wrap = (config: KernelConfig): KernelConfig => {
    const inner = config.kernelFunc;
    const timed: KernelFunc = (args) => {
      const shapes = byShape
        ? ` ${Object.values(args.inputs)
            .map((t) => `[${t?.shape.join(',')}]`)
            .join(' ')}`
        : '';
      const name = (stack.length > 0 ? `${stack[stack.length - 1]}>${config.kernelName}` : config.kernelName) + shapes;
      stack.push(config.kernelName);
      const start = performance.now();
      try {
        return inner(args) as TensorInfo | TensorInfo[];
      } finally {
        const ms = performance.now() - start;
        stack.pop();
        const entry = totals.get(name) ?? { name, calls: 0, ms: 0 };
        entry.calls += 1;
        entry.ms += ms;
        totals.set(name, entry);
      }
    };
    return { ...config, kernelFunc: timed };
  };
  swapKernels(originals, wrap);
  try {
    await fn();
  } finally {
    swapKernels(originals, (config) => config);
  }
  return [...totals.values()].sort((a, b) => b.ms - a.ms);
}

function swapKernels(configs: KernelConfig[], make: (config: KernelConfig) => KernelConfig): void {
  for (const config of configs) {
    unregisterKernel(config.kernelName, config.backendName);
    registerKernel(make(config));
  }
}

async function profileWithTf(fn: () => unknown): Promise<KernelTime[]> {
  const info = await tf.profile(() => fn() as tf.TensorContainer);
  const totals = new Map<string, KernelTime>();
  for (const kernel of info.kernels) {
    const ms = typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    const entry = totals.get(kernel.name) ?? { name: kernel.name, calls: 0, ms: 0 };
    entry.calls += 1;
    entry.ms += ms;
    totals.set(kernel.name, entry);
  }
  return [...totals.values()].sort((a, b) => b.ms - a.ms);
}

/** A Markdown table: kernel, calls, total ms, share of the top-level total. */
export function formatProfile(kernels: KernelTime[], limit = 25): string {
  const total = kernels.filter((k) => !k.name.includes('>')).reduce((sum, k) => sum + k.ms, 0);
  const lines = ['| kernel | calls | ms | share |', '|---|---|---|---|'];
  for (const k of kernels.slice(0, limit)) {
    const share = k.name.includes('>') ? '(inside)' : `${((100 * k.ms) / total).toFixed(1)} %`;
    lines.push(`| ${k.name} | ${k.calls} | ${k.ms.toFixed(1)} | ${share} |`);
  }
  lines.push(
    `| all kernels | ${kernels.filter((k) => !k.name.includes('>')).reduce((s, k) => s + k.calls, 0)} | ` +
      `${total.toFixed(1)} | 100 % |`,
  );
  return lines.join('\n');
}
