/**
 * Worker threads whose entry file is TypeScript (the t-SNE frame, the data-parallel trainer).
 *
 * In the command's compiled build (bin/compiled-build.js), which compiles every `*-entry.ts` file
 * too, the thread starts from the compiled entry. Running the sources (tests, scripts, or where no
 * build could be made), it loads the entry through tsx, and passing `--import tsx` in a worker's
 * execArgv is not enough on Node 20: the entry module is resolved before the hooks are in place.
 * So the thread starts from a tiny evaluated script that registers tsx's loader inside it and then
 * imports the entry. Both URLs are absolute, so this works from any working directory and whether
 * the parent runs under `tsx` or `node --import tsx`. tsx is resolved when a worker starts, not
 * when this module loads, so a bundle that never starts one does not need it.
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

/** The compiled build's folder URL: defined by bin/compiled-build.js when it compiles these sources. */
declare const EMBEDDING_TIMELAPSE_BUILD: string | undefined;
const SOURCE_ROOT = new URL('../', import.meta.url).href;

/**
 * `entryUrl` names a `*-entry.ts` file under src/ (the build compiles those); `options` as for
 * `new Worker` (e.g. `workerData`, `transferList`).
 */
export function startTypeScriptWorker(entryUrl: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (!entryUrl.startsWith(SOURCE_ROOT) || !entryUrl.endsWith('-entry.ts'))
    throw new Error(`a worker entry is a src/**/*-entry.ts file (the compiled build holds those), got ${entryUrl}`);
  if (typeof EMBEDDING_TIMELAPSE_BUILD === 'string') {
    const compiledEntry = entryUrl.slice(SOURCE_ROOT.length).replace(/\.ts$/, '.js');
    return new Worker(new URL(compiledEntry, EMBEDDING_TIMELAPSE_BUILD), options);
  }
  const tsxApiUrl = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(OUT_OF_MEMORY_URL)}).then(async ({ isTsxLexerFailure }) => {` +
    ` process.on('unhandledRejection', (error) => { if (!isTsxLexerFailure(error)) throw error; });` +
    ` (await import('node:module')).register(${JSON.stringify(OUT_OF_MEMORY_HOOKS_URL)});` +
    ` return import(${JSON.stringify(tsxApiUrl)}); })` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entryUrl)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
