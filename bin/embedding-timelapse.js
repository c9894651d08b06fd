#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the installed command needs no build step.
import { register as registerLoaderHooks } from 'node:module';
import { describeOutOfMemory } from './out-of-memory.js';

// Before tsx loads: under a memory limit its own WebAssembly start fails, as an uncaught
// rejection that would print a page of minified source. Anything that is not a memory error
// is reported as Node would (the error with its stack, exit 1).
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    const memory = describeOutOfMemory(error);
    if (memory === undefined) console.error(error);
    else console.error(`embedding-timelapse: ${memory}`);
    process.exit(memory === undefined ? 1 : 2);
  });
}

registerLoaderHooks('./out-of-memory-hooks.js', import.meta.url);
const { register } = await import('tsx/esm/api');
register();
await import('../src/cli.ts');
