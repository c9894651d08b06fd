/**
 * A checkpoint may come from anyone: the names in its manifests must not make a reader open
 * files outside the checkpoint's own folder (another step's weights, /dev/zero, a named pipe),
 * and every weight file read must be one whose checksum checkpoint.json records. A file that is
 * missing from a step folder, or not readable yet, is a TransientError the watcher retries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildResNet, resolveModelOptions, type ResNetConfig } from '../../src/model/resnet.ts';
import {
  createAdam,
  loadCheckpoint,
  loadCheckpointModel,
  readCheckpointWeights,
  readOptimizerState,
  saveCheckpoint,
} from '../../src/model/checkpoint.ts';
import { exportCheckpointToOnnx } from '../../src/model/onnx.ts';
import { isTransientError, isUserError } from '../../src/errors.ts';
import { writeSyntheticCifarDir } from '../train/fixtures.ts';

await tf.setBackend('cpu');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const config: ResNetConfig = { blocks: [1], widths: [8], stemChannels: 8, seed: 5 };

/** Two checkpoints of one model, steps 0 and 8, under `checkpointsDir` (default `root/checkpoints`). */
async function twoCheckpoints(root: string, checkpointsDir = join(root, 'checkpoints')): Promise<[string, string]> {
  const model = buildResNet(config);
  const optimizer = await createAdam(model, undefined, { learningRate: 1e-2 });
  const save = (samplesSeen: number) =>
    saveCheckpoint(checkpointsDir, {
      model,
      optimizer,
      meta: { epoch: 0, samplesSeen, iterations: 0, model: resolveModelOptions(config), data: {}, seed: 5 },
    });
  const first = await save(0);
  model.setWeights(model.getWeights().map((w) => tf.add(w, 0.5)));
  const second = await save(8);
  model.dispose();
  optimizer.dispose();
  return [first, second];
}

async function pointManifestAt(dir: string, file: 'model.json' | 'optimizer.json', path: string): Promise<void> {
  const json = JSON.parse(await readFile(join(dir, file), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  json.weightsManifest[0]!.paths = [path];
  await writeFile(join(dir, file), JSON.stringify(json));
}

const oneLine = (pattern: RegExp) => (error: unknown) =>
  isUserError(error) && pattern.test(error.message) && !error.message.includes('\n');

test('manifest paths outside the checkpoint folder, to devices, pipes or unrecorded files are refused', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'hostile-checkpoint-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const [first, second] = await twoCheckpoints(root);
  const intact = join(root, 'intact');
  await cp(second, intact, { recursive: true });

  // Step 8 drawing (or exporting) step 0's weights: refused by name, whatever the checksum says.
  await pointManifestAt(second, 'model.json', '../step-000000000/weights.bin');
  const outside = oneLine(/'\.\.\/step-000000000\/weights\.bin', which is not in the checkpoint's folder/);
  await assert.rejects(readCheckpointWeights(second), outside);
  await assert.rejects(loadCheckpointModel(second), outside);
  await assert.rejects(exportCheckpointToOnnx(second), outside);

  // The same bytes copied in under another plain name: no checksum recorded for it, refused.
  await cp(join(first, 'weights.bin'), join(second, 'step0.bin'));
  await pointManifestAt(second, 'model.json', 'step0.bin');
  const unrecorded = oneLine(/step0\.bin: checkpoint\.json records no checksum for this file/);
  await assert.rejects(readCheckpointWeights(second), unrecorded);
  await assert.rejects(exportCheckpointToOnnx(second), unrecorded);
  await pointManifestAt(second, 'optimizer.json', 'step0.bin');
  await assert.rejects(readOptimizerState(second), oneLine(/step0\.bin/));

  // Devices and pipes, by path or as the file itself: refused at once, never read or waited on.
  await pointManifestAt(second, 'model.json', '../../../../../../../../dev/zero');
  await assert.rejects(readCheckpointWeights(second), oneLine(/not in the checkpoint's folder/));
  await pointManifestAt(second, 'model.json', 'weights.bin');
  await rm(join(second, 'weights.bin'));
  await symlink('/dev/zero', join(second, 'weights.bin'));
  await assert.rejects(readCheckpointWeights(second), oneLine(/weights\.bin: a symbolic link out of/));
  await rm(join(second, 'weights.bin'));
  execFileSync('mkfifo', [join(second, 'weights.bin')]);
  await assert.rejects(readCheckpointWeights(second), oneLine(/weights\.bin: a named pipe, not a regular file/));
  await rm(join(second, 'checkpoint.json'));
  execFileSync('mkfifo', [join(second, 'checkpoint.json')]);
  await assert.rejects(exportCheckpointToOnnx(second), oneLine(/checkpoint\.json: a named pipe/));

  // A weights file bigger than its manifest's tensors is refused before it is read.
  await rm(second, { recursive: true });
  await cp(intact, second, { recursive: true });
  await writeFile(join(second, 'weights.bin'), Buffer.alloc(64 * 1024 * 1024), { flag: 'a' });
  await assert.rejects(
    readCheckpointWeights(second),
    oneLine(/weights\.bin: [\d,]+ bytes, more than the [\d,]+ expected/),
  );

  // The intact checkpoint still loads.
  await rm(second, { recursive: true });
  await cp(intact, second, { recursive: true });
  (await loadCheckpoint(second)).model.dispose();
});

test('a file missing from a step folder, or not readable, is a TransientError; a wrong folder is not', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'transient-checkpoint-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const [, second] = await twoCheckpoints(root);
  const saved = await readFile(join(second, 'weights.bin'));

  await rm(join(second, 'weights.bin'));
  await assert.rejects(readCheckpointWeights(second), isTransientError);
  await assert.rejects(loadCheckpointModel(second), isTransientError);
  await assert.rejects(readCheckpointWeights(join(root, 'no-such-folder')), oneLine(/does not exist/));
  // Still missing once the folder has been quiet for a while: damage, the step is skipped.
  const quiet = new Date(Date.now() - 60_000);
  await utimes(second, quiet, quiet);
  await assert.rejects(
    readCheckpointWeights(second),
    (error: unknown) => isUserError(error) && !isTransientError(error),
  );

  // Permission denied needs a user other than root: the read runs in a child as nobody.
  await writeFile(join(second, 'weights.bin'), saved, { mode: 0o000 });
  for (const dir of [root, join(root, 'checkpoints'), second]) await chmod(dir, 0o755);
  const script =
    "const { readCheckpointWeights } = await import('./src/model/checkpoint.ts');" +
    `await readCheckpointWeights(${JSON.stringify(second)}).then(` +
    "() => console.log('read'), (e) => console.log(`${e.name}: ${e.message}`));";
  const child = spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /^TransientError: cannot read .*weights\.bin: permission denied/);
});

test('watch --once skips a checkpoint whose weights are a named pipe, and draws the rest', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'hostile-watch-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const [, second] = await twoCheckpoints(root, join(root, 'logs', 'r', 'checkpoints'));
  await rm(join(second, 'weights.bin'));
  execFileSync('mkfifo', [join(second, 'weights.bin')]);
  const data = await writeSyntheticCifarDir(join(root, 'data'), 10, 50);
  const watched = spawnSync(
    process.execPath,
    [
      'bin/embedding-timelapse.js',
      'watch',
      '--once',
      '--logdir',
      join(root, 'logs'),
      '--data',
      data,
      '--val-size',
      '50',
    ],
    // SIGKILL: a watcher stuck opening a pipe would finish its frame on SIGTERM, that is never.
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' },
  );
  assert.equal(watched.status, 0, watched.stderr);
  assert.match(watched.stderr, /^skipped r step 000000008: .*weights\.bin: a named pipe, not a regular file/m);
  assert.match(watched.stdout, /watcher stopped: 1 frames? drawn, 1 skipped/);
});
