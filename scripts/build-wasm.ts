/**
 * Compiles the WebAssembly text of the t-SNE kernels to the binaries the code loads:
 *   npm run build:wasm     (src/tsne/<name>.wat → src/tsne/<name>.wasm, for each in KERNELS)
 * The binaries are committed, so neither users nor CI need this step; a test checks that each is
 * its compiled text.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

/** The kernels' text and binary files. */
export const KERNELS = ['row-kernel', 'force-kernel'].map((name) => ({
  text: fileURLToPath(new URL(`../src/tsne/${name}.wat`, import.meta.url)),
  binary: fileURLToPath(new URL(`../src/tsne/${name}.wasm`, import.meta.url)),
}));

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
  for (const kernel of KERNELS) {
    const binary = await compileWat(kernel.text);
    writeFileSync(`${kernel.binary}.tmp`, binary);
    renameSync(`${kernel.binary}.tmp`, kernel.binary);
    console.log(`${kernel.binary}: ${binary.length} bytes`);
  }
}
