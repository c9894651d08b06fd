// Loaded with module.register into Node's module-loader thread, where tsx's hooks run: there
// too tsx starts a WebAssembly lexer, and under a memory limit its unhandled failure would end
// the whole command with exit 1 and no word. tsx falls back to its JavaScript lexer: let it pass.
import { isTsxLexerFailure } from './out-of-memory.js';

process.on('unhandledRejection', (error) => {
  if (!isTsxLexerFailure(error)) throw error;
});
