import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/cli/train.ts';
import { readCheckpointMeta } from '../../src/model/checkpoint.ts';
import { UserError } from '../../src/errors.ts';
import { interruptibleTrainOptions, writeSyntheticCifarDir } from './fixtures.ts';
import { runCliToEnd, startCli, until } from '../helpers/cli.ts';
import { pathExists } from '../../src/util/exists.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('bad options are one-line user errors, before anything is loaded', async () => {
  await assert.rejects(run(['--blocks', '6,x']), (e: unknown) => e instanceof UserError && /--blocks/.test(e.message));
  await assert.rejects(
    run(['--epochs', '0']),
    (e: unknown) => e instanceof UserError && /--epochs must be an integer >= 1/.test(e.message),
  );
  await assert.rejects(
    run(['--lr=-1']),
    (e: unknown) => e instanceof UserError && /--lr must be positive/.test(e.message),
  );
  await assert.rejects(
    run(['--backend', 'tpu']),
    (e: unknown) => e instanceof UserError && /--backend must be one of/.test(e.message),
  );
  await assert.rejects(
    run(['--run', '../x']),
    (e: unknown) => e instanceof UserError && /plain directory name/.test(e.message),
  );
  await assert.rejects(run(['--bogus']), (e: unknown) => e instanceof UserError && /train: .*bogus/.test(e.message));
});

test('SIGINT finishes the step, writes a checkpoint and exits 0; --resume continues upward', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'et-train-cli-'));
  try {
    const data = await writeSyntheticCifarDir(join(dir, 'data'), 400, 20);
    const logdir = join(dir, 'logs');
    const child = startCli(['train', ...interruptibleTrainOptions(data, logdir, 8, 1000)]);
    const checkpoints = join(logdir, 'sig', 'checkpoints');
    const first = join(checkpoints, 'step-000000000', 'checkpoint.json');
    await until('the first checkpoint', () => pathExists(first), 60);
    // Let it train for a while: the signal must be noticed between steps, not only at the
    // epoch's end (50 steps away).
    await new Promise((r) => setTimeout(r, 500));
    child.process.kill('SIGINT');
    const { code } = await child.exited;
    const stderr = child.lines.join('\n');
    assert.equal(code, 0, stderr);
    assert.match(stderr, /SIGINT: stopping after this step/);
    const names = (await readdir(checkpoints)).filter((n) => !n.startsWith('.')).sort();
    assert.equal(names[0], 'step-000000000');
    assert.equal(names.length, 2, names.join(','));
    const last = await readCheckpointMeta(join(checkpoints, names[1]!));
    assert.ok(last.samplesSeen > 0 && last.samplesSeen < 400 && last.samplesSeen % 8 === 0, String(last.samplesSeen));
    assert.equal(last.epoch, 0);

    // --resume without --run picks the newest run; with --epochs 1 it finishes the first epoch.
    const resumedOutput = await runCliToEnd([
      'train',
      '--data',
      data,
      '--logdir',
      logdir,
      '--resume',
      '--epochs',
      '1',
      '--backend',
      'wasm',
    ]);
    const finalNames = (await readdir(checkpoints)).sort();
    const finalMeta = await readCheckpointMeta(join(checkpoints, finalNames.at(-1)!));
    assert.equal(finalMeta.samplesSeen, 400);
    assert.equal(finalMeta.epoch, 1);
    assert.match(resumedOutput, /resuming .*step-0+\d+: epoch 1 of 1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a wrong --data or --run is one line, before any backend is probed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'et-train-cli-'));
  try {
    const logdir = join(dir, 'logs');
    await mkdir(join(logdir, 'taken', 'checkpoints', 'step-000000000'), { recursive: true });
    await writeFile(join(logdir, 'taken', 'checkpoints', 'step-000000000', 'checkpoint.json'), '{}');
    const cases = [
      [['--data', join(dir, 'nothing-here')], /^embedding-timelapse: CIFAR-10 data not found at .*nothing-here: /],
      [['--run', 'taken'], /^embedding-timelapse: run 'taken' in .* already has 1 checkpoint\(s\); pass --resume/],
    ] as const;
    for (const [args, message] of cases) {
      const child = spawn(process.execPath, ['bin/embedding-timelapse.js', 'train', '--logdir', logdir, ...args], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
      assert.equal(stderr.trim().split('\n').length, 1, `no backend line or driver noise first: ${stderr}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
