/**
 * Compiles the WebAssembly text of the t-SNE kernels to the binary the code loads:
 *   npm run build:wasm     (src/tsne/row-kernel.wat → src/tsne/row-kernel.wasm)
 * The binary is committed, so neither users nor CI need this step; a test checks that it is the
 * compiled text.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

export const KERNEL_TEXT = fileURLToPath(new URL('../src/tsne/row-kernel.wat', import.meta.url));
export const KERNEL_BINARY = fileURLToPath(new URL('../src/tsne/row-kernel.wasm', import.meta.url));

/** The binary of a WebAssembly text file, as wabt's wat2wasm writes it. */
export async function compileWat(path: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(path, readFileSync(path, 'utf8'));
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const binary = await compileWat(KERNEL_TEXT);
  writeFileSync(`${KERNEL_BINARY}.tmp`, binary);
  renameSync(`${KERNEL_BINARY}.tmp`, KERNEL_BINARY);
  console.log(`${KERNEL_BINARY}: ${binary.length} bytes`);
}
