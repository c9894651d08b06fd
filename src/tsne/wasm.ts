/**
 * Instances of the t-SNE kernels (./row-kernel.ts, ./force-kernel.ts), or, where WebAssembly
 * cannot have one, the same loops in JavaScript over the same memory layout.
 *
 * V8 reserves about 10 GB of address space for each WebAssembly memory, so under an address-space
 * limit (`ulimit -v`, common on shared clusters) no instance can be made. The watcher promises to
 * work there (its forward pass is native), so t-SNE falls back to JavaScript, about half as fast
 * (docs/speed.md), rather than stop.
 */
import { readFileSync } from 'node:fs';

const PAGE = 65536;

/** What both kinds of kernel offer: a growable memory, like `WebAssembly.Memory`. */
export interface KernelMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** A memory in a plain ArrayBuffer, for the JavaScript loops. */
class PlainMemory implements KernelMemory {
  buffer = new ArrayBuffer(PAGE);

  grow(pages: number): number {
    const before = this.buffer.byteLength / PAGE;
    const next = new ArrayBuffer(this.buffer.byteLength + pages * PAGE);
    new Uint8Array(next).set(new Uint8Array(this.buffer));
    this.buffer = next;
    return before;
  }
}

/** The compiled module of src/tsne/<name>.wasm. */
export function loadKernelModule(name: string): WebAssembly.Module {
  return new WebAssembly.Module(readFileSync(new URL(`./${name}.wasm`, import.meta.url)));
}

let webAssemblyUsable = true;

/** Makes every later kernel a JavaScript one (as under an address-space limit); tests use it. */
export function useJavaScriptKernels(on: boolean): void {
  webAssemblyUsable = !on;
}

/**
 * The exports of a new instance of `module` (its memory grown to hold `bytes`), or
 * `javascript(memory)`'s loops over a plain memory when WebAssembly cannot reserve one.
 */
export function instantiateKernel<T extends { memory: KernelMemory }>(
  module: WebAssembly.Module,
  javascript: (memory: KernelMemory) => Omit<T, 'memory'>,
  bytes: number,
): T {
  let kernel: T | undefined;
  if (webAssemblyUsable) {
    try {
      kernel = new WebAssembly.Instance(module).exports as unknown as T;
    } catch (error) {
      if (!(error instanceof RangeError && /Out of memory|Cannot allocate Wasm memory/i.test(error.message)))
        throw error;
      webAssemblyUsable = false;
    }
  }
  if (kernel === undefined) {
    const memory = new PlainMemory();
    kernel = { memory, ...javascript(memory) } as T;
  }
  growTo(kernel.memory, bytes);
  return kernel;
}

/** Grows `memory` to at least `bytes`. */
export function growTo(memory: KernelMemory, bytes: number): void {
  const pages = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
  if (pages > 0) memory.grow(pages);
}
