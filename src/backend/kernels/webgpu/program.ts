/**
 * The part of tfjs-backend-webgpu's program interface our WGSL kernels use, typed here so that
 * nothing depends on the browser's GPU* type declarations. `runWebGPUProgram` builds the shader
 * around `getUserCode()`: a `result` output array, one read-only array per `variableNames`
 * entry, a `uniforms` struct (shapes first, then the fields of `uniforms`), and calls our
 * `main()` (or `main(index)` for a flat dispatch layout).
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

export interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  /** Names the compiled pipeline in tfjs's cache, with the input ranks and dtypes appended. */
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** WGSL struct fields, e.g. `'count : i32, lr : f32,'`. */
  uniforms?: string;
  /** Adds `uniforms.size` (output elements). */
  size?: boolean;
  getUserCode(): string;
}

export interface ProgramUniform {
  type: 'int32' | 'float32' | 'uint32';
  data: number[];
}

/** The methods of tfjs's WebGPUBackend we call. */
export interface WebGpuBackendLike {
  runWebGPUProgram(
    program: WebGpuProgram,
    inputs: TensorInfo[],
    dtype: DataType,
    uniforms?: ProgramUniform[],
  ): TensorInfo;
  disposeData(dataId: object): boolean;
}

export const int = (...data: number[]): ProgramUniform => ({ type: 'int32', data });
export const float = (...data: number[]): ProgramUniform => ({ type: 'float32', data });
