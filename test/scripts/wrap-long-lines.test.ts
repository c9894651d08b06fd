import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const SCRIPT = new URL('../../scripts/wrap-long-lines.ts', import.meta.url).pathname;
const words = (n: number, word: string) => Array.from({ length: n }, (_, i) => `${word}${i}`).join(' ');

test('long strings, templates and comment lines are broken at 120 columns without changing a value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wrap-'));
  try {
    const file = join(dir, 'sample.ts');
    const source = [
      `// ${words(30, 'comment')}`,
      `const count = 3;`,
      `export const plain = '${words(25, 'plain')}';`,
      `export const template = \`${words(10, 'head')} \${count} ${words(12, 'tail')}\`;`,
      `export const noSpaces = \`\${count}${'x'.repeat(60)}\${count}${'y'.repeat(70)}\`;`,
      `export const length = '${words(25, 'member')}'.length;`,
      `export function f(): string {`,
      `  return 'left' + \`${words(20, 'right')}\`;`,
      `}`,
      '',
    ].join('\n');
    writeFileSync(file, source);
    const before = (await import(pathToFileURL(file).href + '?before')) as Record<string, unknown>;
    execFileSync(process.execPath, ['--import', 'tsx', SCRIPT, file]);
    const wrapped = readFileSync(file, 'utf8');
    const long = wrapped.split('\n').filter((line) => line.length > 120);
    assert.deepEqual(long, []);
    assert.notEqual(wrapped, source);
    const after = (await import(pathToFileURL(file).href + '?after')) as Record<string, unknown>;
    for (const name of ['plain', 'template', 'noSpaces', 'length']) assert.deepEqual(after[name], before[name], name);
    assert.equal((after.f as () => string)(), (before.f as () => string)());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
