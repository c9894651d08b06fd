import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/cli.ts';

const run = promisify(execFile);

/** Every `bench:*` script of package.json with the file it runs. */
async function benchScripts(): Promise<[string, string][]> {
  const { scripts } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return Object.entries(scripts)
    .filter(([name]) => name.startsWith('bench:'))
    .map(([name, command]) => [name, /scripts\/\S+\.ts/.exec(command)![0]]);
}

async function outcome(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', file, ...args], { cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('every benchmark answers --help with its header, and a wrong option with one line and exit 2', async () => {
  const scripts = await benchScripts();
  assert.ok(scripts.length >= 8, `bench scripts found: ${scripts.map(([name]) => name).join(', ')}`);
  for (const [name, file] of scripts) {
    const help = await outcome(file, ['--help']);
    assert.equal(help.code, 0, `${name} --help: ${help.stderr}`);
    assert.match(help.stdout, /\S/, `${name} --help printed nothing`);
    assert.doesNotMatch(help.stdout, /^\s*\*|\/\*\*/m, `${name} --help prints the comment without its marks`);

    const wrong = await outcome(file, ['--no-such-option']);
    assert.equal(wrong.code, 2, `${name}: ${wrong.stderr}`);
    assert.equal(
      wrong.stderr.trim(),
      `${name}: Unknown option '--no-such-option'; see 'npm run ${name} -- --help'`,
      `${name} prints one line`,
    );
  }
});
