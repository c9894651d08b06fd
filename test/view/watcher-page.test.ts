/**
 * The watcher's hook: the page is rewritten after every frame, stays whole when the watcher is
 * killed (SIGKILL) between the state and the page, and a restarted watcher brings it up to date.
 * Fake stages (the shared fixture frames), so it takes seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needs } from '../helpers/requirements.ts';
import { writeFakeCheckpoint } from '../watch/helpers/fake-stages.ts';

const FAKE_WATCHER = new URL('../watch/helpers/fake-watcher.ts', import.meta.url).pathname;
const VAL = 200;

function runFakeWatcher(logdir: string, killAt = '') {
  return spawnSync(process.execPath, ['--import', 'tsx', FAKE_WATCHER, logdir, String(VAL)], {
    env: { ...process.env, KILL_AT: killAt },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

async function pageSteps(embeddings: string): Promise<number[]> {
  const html = await readFile(join(embeddings, 'timelapse.html'), 'utf8');
  const match = /<script id="timelapse-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(match && html.trimEnd().endsWith('</html>'), 'a whole page');
  const header = JSON.parse(match[1]!) as { count: number; chain: string; chunkDir: string };
  // The frames are in the chunk files beside the page that its index names.
  const dir = join(embeddings, header.chunkDir);
  const call = (text: string) => JSON.parse(text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'))) as unknown;
  const index = call(await readFile(join(dir, 'index.js'), 'utf8')) as { chain: string; chunks: number };
  const data = { count: header.count, frames: [] as unknown[], steps: [] as number[] };
  for (let k = 0; k < index.chunks; k++) {
    const name = `frames-${String(k).padStart(6, '0')}.js`;
    const chunk = call(await readFile(join(dir, name), 'utf8')) as {
      chain: string;
      frames: unknown[];
      steps: number[];
    };
    if (chunk.chain === header.chain && index.chain === header.chain) {
      data.frames.push(...chunk.frames);
      data.steps.push(...chunk.steps);
    }
  }
  assert.equal(data.count, VAL);
  assert.equal(data.frames.length, data.steps.length);
  return data.steps;
}

test(
  'a watcher killed before writing the page leaves the previous whole page, and its restart rewrites it',
  { skip: needs('shared') },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'watch-page-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const logdir = join(dir, 'logs');
    const embeddings = join(logdir, 'run', 'embeddings');
    await writeFakeCheckpoint(logdir, 'run', 10, 0);
    await writeFakeCheckpoint(logdir, 'run', 20, 1);
    await writeFakeCheckpoint(logdir, 'run', 30, 2);

    const killed = runFakeWatcher(logdir, '30:state');
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    // Step 30 is committed in the state, but the page still shows steps 10 and 20, whole. The
    // restarted watcher has no checkpoint left to draw: it rewrites the page when it opens the run.
    assert.deepEqual(await pageSteps(embeddings), [10, 20]);

    const restarted = runFakeWatcher(logdir);
    assert.equal(restarted.status, 0, restarted.stderr);
    assert.deepEqual(await pageSteps(embeddings), [10, 20, 30]);
    assert.deepEqual(
      (await readdir(embeddings)).filter((name) => name.endsWith('.tmp')),
      [],
      'no temporary files left',
    );
  },
);
