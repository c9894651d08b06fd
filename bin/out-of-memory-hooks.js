// Loaded with module.register into Node's module-loader thread, where tsx's hooks run: there
// too tsx starts a WebAssembly lexer, and under a memory limit its failure would end the whole
// command with exit 1 and no word. tsx falls back to its JavaScript lexer, so that failure is
// let pass; the command's own thread reports the limit when it runs out itself.
import { describeOutOfMemory } from './out-of-memory.js';

process.on('unhandledRejection', (error) => {
  if (describeOutOfMemory(error) === undefined) throw error;
});
