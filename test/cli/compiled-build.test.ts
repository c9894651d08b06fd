/**
 * The command's compiled build (bin/compiled-build.js): made once per state of the sources, kept,
 * renewed when a source changes, and behaving as the sources do; where it cannot be made, the
 * command runs the sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKey, buildSources, compiledCommand } from '../../bin/compiled-build.js';
import { CLI, REPO_ROOT } from '../helpers/cli.ts';
import { clusteredData } from '../../src/tsne/synthetic.ts';
import { formatNumberTable } from '../../src/util/tsv.ts';

async function temporaryDir(t: { after(fn: () => Promise<void>): void }, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the build key follows every source (.ts in src/, .js in bin/): an edit, a new file', async (t) => {
  const root = await temporaryDir(t, 'build-key-');
  await mkdir(join(root, 'src', 'part'), { recursive: true });
  await writeFile(join(root, 'src', 'cli.ts'), 'export const a = 1;\n');
  await writeFile(join(root, 'src', 'part', 'b.ts'), 'export const b = 2;\n');
  await mkdir(join(root, 'bin'));
  await writeFile(join(root, 'bin', 'helper.js'), 'export const h = 1;\n');
  const key = () => buildKey(root, buildSources(root));

  const first = key();
  assert.equal(key(), first);
  await writeFile(join(root, 'src', 'part', 'b.ts'), 'export const b = 30;\n');
  const edited = key();
  assert.notEqual(edited, first);
  await writeFile(join(root, 'src', 'part', 'c.ts'), 'export const c = 4;\n');
  const added = key();
  assert.notEqual(added, edited);
  await writeFile(join(root, 'bin', 'helper.js'), 'export const h = 22;\n');
  assert.notEqual(key(), added, 'bin/*.js is bundled too');
  assert.deepEqual(
    buildSources(root).map((path) => path.slice(root.length)),
    ['/bin/helper.js', '/src/cli.ts', '/src/part/b.ts', '/src/part/c.ts'],
  );
});

test('a build is made once, holds the worker entries, and is used while the sources stay', async (t) => {
  const cache = await temporaryDir(t, 'build-cache-');
  const url = await compiledCommand(REPO_ROOT, cache);
  assert.ok(url !== undefined, 'a build of the checkout');
  const folder = fileURLToPath(new URL('.', url));
  assert.ok(folder.startsWith(cache));
  for (const entry of ['cli.js', 'tsne/tsne-worker-entry.js', 'tsne/threads-worker-entry.js']) {
    assert.ok(existsSync(join(folder, entry)), entry);
  }
  assert.ok(existsSync(join(folder, 'train/parallel/worker-entry.js')));
  // startTypeScriptWorker starts the compiled entries: the build names its own folder.
  const chunks = readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.js'));
  const code = chunks.map((name) => readFileSync(join(folder, name), 'utf8')).join('\n');
  assert.doesNotMatch(code, /EMBEDDING_TIMELAPSE_BUILD/);
  assert.ok(code.includes(JSON.stringify(new URL('.', url).href)));

  const built = statSync(join(folder, 'cli.js')).mtimeMs;
  assert.equal(await compiledCommand(REPO_ROOT, cache), url);
  assert.equal(statSync(join(folder, 'cli.js')).mtimeMs, built, 'the kept build, not a new one');
  assert.equal(readdirSync(cache).length, 1);
});

test('the compiled command and its helper threads draw the frame the sources draw', async (t) => {
  const dir = await temporaryDir(t, 'build-frame-');
  // 5,000 points: the frame starts its helper threads (PARALLEL_FROM), compiled workers here.
  const { X } = clusteredData(5000, 8, 5, 3);
  const input = join(dir, 'points.tsv');
  await writeFile(input, formatNumberTable(X, 8));
  const frame = (out: string, env: NodeJS.ProcessEnv) => {
    const args = [CLI, 'tsne', '--input', input, '--out', join(dir, out), '--threads', '2'];
    const result = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  };
  frame('compiled.tsv', {});
  frame('sources.tsv', { EMBEDDING_TIMELAPSE_FROM_SOURCES: '1' });
  const compiled = await readFile(join(dir, 'compiled.tsv'), 'utf8');
  assert.equal(compiled.trim().split('\n').length, 5000);
  assert.equal(compiled, await readFile(join(dir, 'sources.tsv'), 'utf8'));
});

test('sources that do not compile, or a cache that cannot be written: no build, the sources run', async (t) => {
  const root = await temporaryDir(t, 'build-broken-');
  await mkdir(join(root, 'src'));
  await writeFile(join(root, 'src', 'cli.ts'), 'export const = ;\n');
  const cache = join(root, 'cache');
  assert.equal(await compiledCommand(root, cache), undefined);
  assert.deepEqual(existsSync(cache) ? readdirSync(cache) : [], [], 'no build and no temporary folder left');

  await writeFile(join(root, 'src', 'cli.ts'), 'export const fine = 1;\n');
  const blocked = join(root, 'a-file');
  await writeFile(blocked, '');
  assert.equal(await compiledCommand(root, join(blocked, 'cache')), undefined);
  assert.ok((await compiledCommand(root, cache)) !== undefined, 'the same sources build where they may');
});

test('a new build removes builds unused for a week and interrupted ones, and keeps recent ones', async (t) => {
  const root = await temporaryDir(t, 'build-prune-');
  await mkdir(join(root, 'src'));
  await writeFile(join(root, 'src', 'cli.ts'), 'export const version = 1;\n');
  const cache = join(root, 'cache');
  const stale = join(cache, 'stale-build');
  const interrupted = join(cache, 'other.tmp-1-2');
  const recent = join(cache, 'recent-build');
  for (const folder of [stale, interrupted, recent]) await mkdir(folder, { recursive: true });
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600 * 1000);
  await utimes(stale, hoursAgo(8 * 24), hoursAgo(8 * 24));
  await utimes(interrupted, hoursAgo(2), hoursAgo(2));
  await utimes(recent, hoursAgo(24), hoursAgo(24));

  const url = await compiledCommand(root, cache);
  assert.ok(url !== undefined);
  const current = fileURLToPath(new URL('.', url)).replace(/\/$/, '');
  assert.deepEqual(readdirSync(cache).sort(), [current.slice(cache.length + 1), 'recent-build'].sort());
});

test('EMBEDDING_TIMELAPSE_FROM_SOURCES=1: no build is made or used', async (t) => {
  const cache = await temporaryDir(t, 'build-sources-');
  process.env.EMBEDDING_TIMELAPSE_FROM_SOURCES = '1';
  t.after(() => delete process.env.EMBEDDING_TIMELAPSE_FROM_SOURCES);
  assert.equal(await compiledCommand(REPO_ROOT, cache), undefined);
  assert.deepEqual(readdirSync(cache), []);
});
