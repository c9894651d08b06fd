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

/**
 * The thread first lets pass tsx's failure to start its WebAssembly lexer under a memory limit
 * (`ulimit -v`), in the thread and in the loader thread its hooks run in (as the command does,
 * see bin/): tsx falls back to its JavaScript lexer, and unhandled, that failure would end the
 * thread before it answers. Any other error still reaches the parent.
 */
const OUT_OF_MEMORY_URL = new URL('../../bin/out-of-memory.js', import.meta.url).href;
const OUT_OF_MEMORY_HOOKS_URL = new URL('../../bin/out-of-memory-hooks.js', import.meta.url).href;

/** `options` as for `new Worker` (e.g. `workerData`, `transferList`); `eval` is set here. */
export function startTypeScriptWorker(entryUrl: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const tsxApiUrl = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(OUT_OF_MEMORY_URL)}).then(async ({ isTsxLexerFailure }) => {` +
    ` process.on('unhandledRejection', (error) => { if (!isTsxLexerFailure(error)) throw error; });` +
    ` (await import('node:module')).register(${JSON.stringify(OUT_OF_MEMORY_HOOKS_URL)});` +
    ` return import(${JSON.stringify(tsxApiUrl)}); })` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entryUrl)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
