/**
 * Worker threads whose entry file is TypeScript (the t-SNE frame, the data-parallel trainer).
 *
 * Passing `--import tsx` in a worker's execArgv is not enough on Node 20: the entry module is
 * resolved before the hooks are in place. So the thread starts from a tiny evaluated script that
 * registers tsx's loader inside it and then imports the entry. Both URLs are absolute, so this
 * works from any working directory and whether the parent runs under `tsx` or `node --import tsx`.
 * tsx is resolved when a worker starts, not when this module loads, so a bundle that never starts
 * one does not need it.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `options` as for `new Worker` (e.g. `workerData`, `transferList`); `eval` is set here. */
export function startTypeScriptWorker(entryUrl: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const tsxApiUrl = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsxApiUrl)}).then((tsx) => { tsx.register(); return ` +
    `import(${JSON.stringify(entryUrl)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
