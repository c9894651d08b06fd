import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { needs } from '../../helpers/requirements.ts';
import { checksums, copyRun, temporaryDir } from './helpers.ts';
import { chainDir, chainEventSteps, chainGifSteps, chainState, pageData } from './helpers-watch.ts';

const WATCHER = new URL('./projector-watcher.ts', import.meta.url).pathname;
const STEPS = [0, 1280, 2560, 5120];

function runWatcher(logdir: string, killAt = '') {
  return spawnSync(process.execPath, ['--import', 'tsx', WATCHER, logdir], {
    env: { ...process.env, KILL_AT: killAt },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

for (const point of ['load', 'projector', 'gif', 'events', 'state']) {
  test(
    `SIGKILL at '${point}' of a PyTorch step, then a restart: every step once everywhere`,
    { skip: needs('shared') },
    async () => {
      const logdir = await temporaryDir('projector-crash-');
      const run = await copyRun('basic', join(logdir, 'exp'));
      const before = await checksums(run);
      const killed = runWatcher(logdir, `1280:${point}`);
      assert.equal(killed.signal, 'SIGKILL', killed.stderr);
      const dir = chainDir(run, 'default');
      const committed = point === 'state' ? [0, 1280] : [0];
      assert.deepEqual(
        (await chainState(dir)).frames.map((f) => f.step),
        committed,
      );
      const restarted = runWatcher(logdir);
      assert.equal(restarted.status, 0, restarted.stderr);
      assert.deepEqual(
        (await chainState(dir)).frames.map((f) => f.step),
        STEPS,
      );
      assert.deepEqual(await chainGifSteps(dir), STEPS);
      const events = await chainEventSteps(dir);
      assert.deepEqual(events.get('embeddings/tsne'), STEPS);
      assert.deepEqual(events.get('embeddings/displacement'), STEPS);
      assert.deepEqual((await pageData(dir)).steps, STEPS);
      assert.deepEqual(await checksums(run, ['timelapse']), before);
    },
  );
}
