/**
 * The real probes behind `initBackend`: can this process load tfjs-node, reach a GPU through
 * Dawn, find the wasm binaries? Each answers quickly and without printing anything, and
 * `activate` is only called for the one that is chosen.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { ProbeResult, Probes } from './choose.ts';
import { registerWasmKernels, registerWebGpuKernels } from './kernels/register.ts';

const require = createRequire(import.meta.url);

/** Loads a package that may not be installed, without TypeScript resolving the name. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(message).includes(specifier);
}

/** tfjs-node registers the backend 'tensorflow' on the tfjs-core it was built against. */
export async function probeTfjsNode(
  specifier: '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu',
): Promise<ProbeResult> {
  const fix = `install it with 'npm install ${specifier}' (it downloads libtensorflow)`;
  try {
    await importOptional(specifier);
  } catch (error) {
    if (isModuleNotFound(error, specifier)) return { available: false, why: 'not installed', fix };
    return {
      available: false,
      why: `installed but failed to load (${firstLine(error)})`,
      fix: `reinstall it with 'npm install ${specifier}'`,
    };
  }
  if (tf.findBackendFactory('tensorflow') === null) {
    return {
      available: false,
      why:
        `it loaded, but registered its backend on another copy of @tensorflow/tfjs-core than ours ` +
        `(${tf.version_core})`,
      fix: `install the ${specifier} version that matches @tensorflow/tfjs-core ${tf.version_core}`,
    };
  }
  return {
    available: true,
    detail: `${specifier} is installed (native TensorFlow)`,
    activate: async () => {
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${specifier} failed to initialise`);
      return 'tensorflow';
    },
  };
}

const SOFTWARE_ADAPTERS = /swiftshader|llvmpipe|lavapipe|software/i;

/** Dawn on Linux talks to the GPU through Vulkan; without the loader it can only fail (noisily). */
export function vulkanLoaderPresent(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform !== 'linux') return true; // Metal / D3D12 need no loader
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
    '/lib64',
    '/usr/local/lib',
    '/usr/local/nvidia/lib64',
  ];
  if (dirs.some((dir) => existsSync(join(dir, 'libvulkan.so.1')))) return true;
  try {
    // The dynamic linker's own index of libraries: cheaper than running ldconfig -p.
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: string;
  }): Promise<{ info?: AdapterInfoLike; isFallbackAdapter?: boolean } | null>;
}

export function describeAdapter(info: AdapterInfoLike | undefined): string {
  if (!info) return 'unknown adapter';
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (part) => part && part.length > 0,
  );
  return parts.length > 0 ? [...new Set(parts)].join(' ') : 'unnamed adapter';
}

/** What a child process found when it asked Dawn for an adapter. */
export interface AdapterReport {
  adapter: (AdapterInfoLike & { isFallbackAdapter?: boolean }) | null;
  /** Dawn's and the Vulkan loader's messages (shown only with verbose or --backend webgpu). */
  messages: string;
}

/** Runs in the child: asks Dawn for an adapter and prints what it is, as one JSON line. */
const ADAPTER_SCRIPT = `
const { create } = await import(process.argv[1]);
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
const i = adapter?.info;
const found = adapter && {
  vendor: i?.vendor, architecture: i?.architecture, device: i?.device, description: i?.description,
  isFallbackAdapter: Boolean(i?.isFallbackAdapter ?? adapter.isFallbackAdapter) };
process.stdout.write(JSON.stringify({ adapter: found ?? null }) + '\\n');
process.exit(0);
`;

/**
 * Asks Dawn for an adapter in a child process, so that what Dawn and the Vulkan loader print
 * while looking ('Found no drivers!', XDG_RUNTIME_DIR warnings) lands in a pipe, not on the
 * user's terminal. Costs one Node start-up (~0.3 s), only on machines with a Vulkan loader.
 */
export async function findAdapterQuietly(env: NodeJS.ProcessEnv = process.env): Promise<AdapterReport> {
  const entry = pathToFileURL(require.resolve('webgpu')).href;
  return new Promise((resolve, reject) => {
    const args = ['--input-type=module', '-e', ADAPTER_SCRIPT, entry];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) {
        reject(new Error(`the adapter probe exited with ${code}: ${firstLine(stderr) || 'no output'}`));
        return;
      }
      resolve({ adapter: (JSON.parse(line) as Pick<AdapterReport, 'adapter'>).adapter, messages: stderr });
    });
  });
}

export function isSoftwareAdapter(adapter: AdapterInfoLike & { isFallbackAdapter?: boolean }): boolean {
  return Boolean(adapter.isFallbackAdapter) || SOFTWARE_ADAPTERS.test(describeAdapter(adapter));
}

export interface WebGpuProbeOptions {
  /** Print Dawn's messages from the probe (also printed when the user asked for webgpu). */
  verbose?: boolean;
  /** Where those messages go; default stderr. */
  log?: (text: string) => void;
}

/**
 * WebGPU through the `webgpu` package (Dawn). `navigator.gpu` has to exist before
 * @tensorflow/tfjs-backend-webgpu is imported: the module registers its backend only if it does.
 * `acceptSoftware` lets an explicit --backend webgpu use a CPU emulation of a GPU; auto never
 * takes one (SwiftShader, llvmpipe: slower than wasm).
 */
export async function probeWebGpu(
  acceptSoftware: boolean,
  env: NodeJS.ProcessEnv = process.env,
  options: WebGpuProbeOptions = {},
): Promise<ProbeResult> {
  const fix = 'check the GPU driver and its Vulkan/Metal/D3D12 support';
  if (!vulkanLoaderPresent(env)) {
    return {
      available: false,
      why: 'no Vulkan loader (libvulkan.so.1) on this machine',
      fix: `install it (e.g. 'apt install libvulkan1') and the GPU driver's Vulkan support`,
    };
  }
  let report: AdapterReport;
  try {
    report = await findAdapterQuietly(env);
  } catch (error) {
    const why = `the webgpu package failed to load or probe (${firstLine(error)})`;
    return { available: false, why, fix: "reinstall it with 'npm install webgpu'" };
  }
  if ((options.verbose || acceptSoftware) && report.messages.trim() !== '') {
    (options.log ?? ((text: string) => process.stderr.write(text)))(report.messages.replace(/\n?$/, '\n'));
  }
  if (report.adapter === null) return { available: false, why: 'no GPU adapter found', fix };
  const name = describeAdapter(report.adapter);
  if (isSoftwareAdapter(report.adapter) && !acceptSoftware) {
    return { available: false, why: `only a software adapter (${name}), slower than wasm`, fix };
  }
  return {
    available: true,
    detail: `GPU adapter: ${name}`,
    activate: async () => {
      const dawn = (await importOptional('webgpu')) as DawnModule;
      installNavigatorGpu(dawn.create([]), dawn.globals);
      await import('@tensorflow/tfjs-backend-webgpu');
      registerWebGpuKernels();
      if (!(await tf.setBackend('webgpu'))) throw new Error('the tfjs webgpu backend failed to initialise');
      return 'webgpu';
    },
  };
}

/** What the tfjs webgpu backend expects of a browser: `navigator.gpu` and the GPU* constants. */
function installNavigatorGpu(gpu: GpuLike, globals: Record<string, unknown>): void {
  const scope = globalThis as Record<string, unknown>;
  for (const [key, value] of Object.entries(globals)) {
    if (!(key in scope)) scope[key] = value;
  }
  const navigator = (scope.navigator ?? {}) as Record<string, unknown>;
  if (!('gpu' in navigator)) {
    Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
  }
  if (scope.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true, writable: true });
  }
}

/**
 * The folder holding tfjs-backend-wasm's .wasm files, with a trailing slash: the package's dist
 * folder, or `TFJS_WASM_DIR` (a bundled copy, as in the GPU check kit, has no node_modules).
 */
export function wasmBinaryFolder(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TFJS_WASM_DIR) return env.TFJS_WASM_DIR.replace(/\/?$/, '/');
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/';
}

/** Node's global WebAssembly, which the ES2023 type library does not declare. */
const { WebAssembly: wasmGlobal } = globalThis as unknown as {
  WebAssembly: { Memory: new (descriptor: { initial: number }) => unknown };
};

/** Throws V8's own RangeError when a WebAssembly memory cannot be reserved. */
function reserveWasmMemory(): void {
  new wasmGlobal.Memory({ initial: 1 });
}

export async function probeWasm(): Promise<ProbeResult> {
  let folder: string;
  try {
    folder = wasmBinaryFolder();
  } catch (error) {
    return {
      available: false,
      why: `@tensorflow/tfjs-backend-wasm is not installed (${firstLine(error)})`,
      fix: "run 'npm install'",
    };
  }
  if (!existsSync(join(folder, 'tfjs-backend-wasm-simd.wasm'))) {
    return { available: false, why: `its binaries are missing from ${folder}`, fix: "reinstall with 'npm install'" };
  }
  return {
    available: true,
    detail: 'WebAssembly with SIMD, one thread (Node has no Web Workers for the threaded build)',
    activate: async () => {
      // Under an address-space limit (ulimit -v) the backend cannot reserve its memory; say so
      // (the error names it) instead of tfjs's advice about serving .wasm files.
      reserveWasmMemory();
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(folder);
      registerWasmKernels();
      if (!(await tf.setBackend('wasm'))) throw new Error(`the wasm backend failed to initialise from ${folder}`);
      return 'wasm';
    },
  };
}

export async function probeCpu(): Promise<ProbeResult> {
  return {
    available: true,
    detail: 'plain JavaScript, slow: for tests and reference results',
    activate: async () => {
      await import('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
      return 'cpu';
    },
  };
}

/**
 * `explicitWebGpu`: the user asked for webgpu by name, so a software adapter is accepted and
 * Dawn's messages are shown; `verbose` shows them in any case.
 */
export function realProbes(explicitWebGpu = false, verbose = false): Probes {
  return {
    'tfjs-node-gpu': () => probeTfjsNode('@tensorflow/tfjs-node-gpu'),
    'tfjs-node': () => probeTfjsNode('@tensorflow/tfjs-node'),
    webgpu: () => probeWebGpu(explicitWebGpu, process.env, { verbose }),
    wasm: probeWasm,
    cpu: probeCpu,
  };
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}
