/** `embedding-timelapse watch` itself (real t-SNE, real rendering) on a run PyTorch wrote. */
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { needs } from '../../helpers/requirements.ts';
import { runCliToEnd } from '../../helpers/cli.ts';
import { checksums, copyRun, temporaryDir } from './helpers.ts';
import { chainDir, chainState, pageData } from './helpers-watch.ts';

test(
  'watch --logdir on a PyTorch run: frames of every step, legend by --color-by, the user files untouched',
  { skip: needs('shared') },
  async () => {
    const logdir = await temporaryDir('projector-cli-');
    const run = await copyRun('header-nosprite', join(logdir, 'exp1'));
    const before = await checksums(run);
    const output = await runCliToEnd([
      'watch',
      '--logdir',
      logdir,
      '--once',
      '--settle',
      '0',
      '--gif-tween',
      '0',
      '--color-by',
      'label',
    ]);
    const dir = chainDir(run, 'penultimate');
    assert.deepEqual(
      (await chainState(dir)).frames.map((f) => f.step),
      [0, 1280, 2560],
      output,
    );
    assert.match(output, /exp1 \[penultimate\]: 300 points, colour by 'label': 10 categories/);
    for (const step of ['000000000', '000001280', '000002560']) await access(join(dir, 'images', `step-${step}.png`));
    await access(join(dir, 'images', 'animation.gif'));
    assert.equal((await pageData(dir)).classNames.length, 10);
    assert.deepEqual(await checksums(run, ['timelapse']), before);
  },
);
