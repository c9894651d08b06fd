// One line for running out of memory, instead of a stack trace of minified tsx source or a
// worker's 'error' event. Plain JavaScript: the command installs it before tsx loads, since
// under an address-space limit (`ulimit -v`) tsx's own WebAssembly start is what fails first.
import { readFileSync } from 'node:fs';

const GB = 1e9;

/** The soft address-space limit (`ulimit -v`) in bytes, or undefined when there is none. */
export function addressSpaceLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max address space'));
    const soft = line?.slice('Max address space'.length).trim().split(/\s+/)[0];
    return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

/** The messages of an error and of its causes, one string. */
function messagesOf(error) {
  const parts = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; e = e.cause, depth++) {
    parts.push(typeof e === 'object' && 'message' in e ? String(e.message) : String(e));
  }
  return parts.join(' | ');
}

/**
 * What ran out, how much was asked and what to do, when `error` is running out of memory;
 * undefined for any other error.
 */
export function describeOutOfMemory(error) {
  const text = messagesOf(error);
  const limit = addressSpaceLimit();
  const limitText =
    limit === undefined
      ? 'no address-space limit is set, so the machine itself is short of memory'
      : `the address-space limit (ulimit -v) is ${(limit / GB).toFixed(1)} GB`;
  const wasmReservation = /WebAssembly\.(instantiate|Memory|Module)\(\):.*(Out of memory|could not allocate)/i;
  if (wasmReservation.test(text) || /Cannot allocate Wasm memory/.test(text)) {
    return (
      'out of memory: WebAssembly could not reserve its memory (about 10 GB of address space per instance, one ' +
      `in each worker thread); ${limitText}; raise it (ulimit -v unlimited), or for train use fewer workers ` +
      '(--workers 1)'
    );
  }
  if (/memory access out of bounds|Maximum memory size exceeded|WebAssembly\.Memory\.grow\(\)/.test(text)) {
    return (
      'out of memory: the wasm backend needed more than the 4 GB a WebAssembly memory can hold; use a smaller ' +
      'model (--blocks, --widths) or a smaller --batch-size'
    );
  }
  const code = typeof error === 'object' && error !== null ? error.code : undefined;
  if (
    code === 'ERR_WORKER_OUT_OF_MEMORY' ||
    /Array buffer allocation failed|JavaScript heap out of memory/.test(text)
  ) {
    return (
      `out of memory (${text}); ${limitText}; use fewer workers (--workers 1), a smaller --batch-size, or raise ` +
      'the limit'
    );
  }
  return undefined;
}

/**
 * tsx starts a WebAssembly lexer as it loads and falls back to a JavaScript one when that
 * fails, but leaves the failure unhandled: under a memory limit it is no reason to stop.
 */
export function isTsxLexerFailure(error) {
  const stack = typeof error === 'object' && error !== null ? String(error.stack) : '';
  return describeOutOfMemory(error) !== undefined && /[\\/]tsx[\\/]dist[\\/]/.test(stack);
}
