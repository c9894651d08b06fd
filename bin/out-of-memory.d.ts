/** The soft address-space limit (`ulimit -v`) in bytes, or undefined when there is none. */
export function addressSpaceLimit(): number | undefined;
/** What ran out, how much was asked and what to do, for an out-of-memory error; undefined otherwise. */
export function describeOutOfMemory(error: unknown): string | undefined;
/** Whether `error` is tsx's own WebAssembly lexer failing to start (harmless: tsx falls back). */
export function isTsxLexerFailure(error: unknown): boolean;
