/**
 * The player's script: the modules of `client/` bundled into one script with esbuild when a page
 * is written (once per process), so the page stays one file that also opens from file://.
 *
 * The test hook (`client/hook.js`, `window.timelapse`) is compiled in only when
 * EMBEDDING_TIMELAPSE_PAGE_HOOKS=1 (the browser tests and bench:view set it); otherwise esbuild
 * drops it as dead code and a user's page carries none of it.
 */
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const PAGE_HOOKS_ENV = 'EMBEDDING_TIMELAPSE_PAGE_HOOKS';
const ENTRY = fileURLToPath(new URL('./client/main.js', import.meta.url));
const built = new Map<boolean, string>();

export function pageHooksWanted(): boolean {
  return process.env[PAGE_HOOKS_ENV] === '1';
}

export function clientScript(hooks = pageHooksWanted()): string {
  const known = built.get(hooks);
  if (known !== undefined) return known;
  const result = buildSync({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    define: { TEST_HOOKS: String(hooks) },
  });
  // Inline in the page: a `</script` inside a string must not end the script block.
  const text = result.outputFiles[0]!.text.replace(/<\/(script)/gi, '<\\/$1');
  built.set(hooks, text);
  return text;
}
