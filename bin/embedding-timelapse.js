#!/usr/bin/env node
// Runs the TypeScript CLI: compiled once and kept (./compiled-build.js), or through tsx where no
// build can be made. Either way the installed command needs no build step.
import { register as registerLoaderHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import { compiledCommand } from './compiled-build.js';
import { describeOutOfMemory, isTsxLexerFailure } from './out-of-memory.js';

// Before tsx loads: under a memory limit (ulimit -v) an error can escape every handler of the
// command (tsx's own WebAssembly lexer, a worker thread's 'error' event), and Node would print
// a page of minified source. A memory error is one line; tsx's lexer failing is let pass (it
// falls back to JavaScript); anything else is reported as Node would (error and stack, exit 1).
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    if (isTsxLexerFailure(error)) return;
    const memory = describeOutOfMemory(error);
    if (memory === undefined) console.error(error);
    else console.error(`embedding-timelapse: ${memory}`);
    process.exit(memory === undefined ? 1 : 2);
  });
}

const compiled = await compiledCommand(fileURLToPath(new URL('..', import.meta.url)));
if (compiled !== undefined) {
  // An unexpected error's stack then names the TypeScript sources' lines, as under tsx.
  process.setSourceMapsEnabled(true);
  await import(compiled);
} else {
  registerLoaderHooks('./out-of-memory-hooks.js', import.meta.url);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
