/**
 * Counts what the webgpu backend asks of the Dawn device while some work runs: buffers created,
 * shader modules and pipelines compiled (with the program names), `queue.writeBuffer` calls
 * (tfjs writes each dispatch's uniforms that way), tensors uploaded from host memory, and
 * dispatches. For the test that a warmed-up training step compiles nothing and creates
 * (almost) nothing, and for the benchmark's dispatch counts.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface DeviceCounts {
  createBuffer: number;
  createShaderModule: number;
  createComputePipeline: number;
  writeBuffer: number;
  /** Tensors whose values went from host memory to the GPU (tfjs's `uploadToGPU` with values). */
  uploads: number;
  uploadBytes: number;
  /** Uploads by tensor shape (`[]` for scalars), to tell inputs from constants. */
  uploadShapes: Record<string, number>;
  dispatches: number;
  /** Labels (tfjs program class names) of the pipelines compiled. */
  compiled: string[];
}

type Method = (...args: unknown[]) => unknown;
interface Patchable {
  [name: string]: unknown;
}
interface WebGpuBackendInternals {
  device: Patchable & { queue: Patchable };
  tensorMap: { get(dataId: object): { values?: ArrayLike<number> | null; shape: number[] } | undefined };
  uploadToGPU: Method;
  recordAndSubmit: Method;
}

export function emptyCounts(): DeviceCounts {
  return {
    createBuffer: 0,
    createShaderModule: 0,
    createComputePipeline: 0,
    writeBuffer: 0,
    uploads: 0,
    uploadBytes: 0,
    uploadShapes: {},
    dispatches: 0,
    compiled: [],
  };
}

/** Runs `fn` with the current (webgpu) backend's device instrumented; returns what it counted. */
export async function countDeviceWork(fn: () => Promise<unknown>): Promise<DeviceCounts> {
  if (tf.getBackend() !== 'webgpu') throw new Error(`countDeviceWork needs the webgpu backend, not ${tf.getBackend()}`);
  const backend = tf.backend() as unknown as WebGpuBackendInternals;
  const counts = emptyCounts();
  const restore: Array<() => void> = [];
  const wrap = (target: Patchable, name: string, before: (args: unknown[]) => void) => {
    const original = target[name] as Method;
    const hadOwn = Object.prototype.hasOwnProperty.call(target, name);
    target[name] = function (this: unknown, ...args: unknown[]) {
      before(args);
      return original.apply(this, args);
    };
    restore.push(() => {
      if (hadOwn) target[name] = original;
      else delete target[name];
    });
  };
  const { device } = backend;
  wrap(device, 'createBuffer', () => counts.createBuffer++);
  wrap(device, 'createShaderModule', () => counts.createShaderModule++);
  const pipeline = (args: unknown[]) => {
    counts.createComputePipeline++;
    counts.compiled.push(String((args[0] as { label?: string })?.label ?? '?'));
  };
  wrap(device, 'createComputePipeline', pipeline);
  wrap(device, 'createComputePipelineAsync', pipeline);
  wrap(device.queue, 'writeBuffer', () => counts.writeBuffer++);
  wrap(backend as unknown as Patchable, 'uploadToGPU', (args) => {
    const data = backend.tensorMap.get(args[0] as object);
    if (data?.values != null) {
      counts.uploads++;
      counts.uploadBytes += data.values.length * 4;
      const shape = `[${data.shape.join(',')}]`;
      counts.uploadShapes[shape] = (counts.uploadShapes[shape] ?? 0) + 1;
    }
  });
  wrap(backend as unknown as Patchable, 'recordAndSubmit', () => counts.dispatches++);
  try {
    await fn();
  } finally {
    for (const undo of restore.reverse()) undo();
  }
  return counts;
}
