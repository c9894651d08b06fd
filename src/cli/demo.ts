/**
 * `npm run demo`: trains a small preset while a watcher runs beside it, as a user would in two
 * terminals (two child processes: `train` and `watch`), waits until the watcher has drawn the
 * last checkpoint, then says where everything is and how to look at it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { UserError } from '../errors.ts';
import { tensorboardCommand } from '../tensorboard/command.ts';
import { timestampRunName } from '../train/runs.ts';
import { runPaths } from '../layout.ts';
import { isS3Url, storageFor } from '../storage/index.ts';
import { completeCheckpointSteps, waitForWatcher } from './demo-progress.ts';
import { intOption, parseCommand } from './args.ts';
import { onStopSignals } from './signals.ts';

/** The installed command: it finds tsx beside itself, wherever the user runs it from. */
const BIN = fileURLToPath(new URL('../../bin/embedding-timelapse.js', import.meta.url));

/** The small preset: ~9 checkpoints in a few minutes on 2 CPU cores, with the watcher beside it. */
export const DEMO_TRAINING = {
  blocks: 'small',
  epochs: 2,
  maxSamples: 8000,
  checkpointEvery: 1600,
  valSamples: 1000,
  batchSize: 64,
} as const;

const thousands = (n: number) => n.toLocaleString('en-US');

const HELP = `usage: embedding-timelapse demo [options]

Trains the small ResNet preset (${DEMO_TRAINING.epochs} epochs of ${thousands(DEMO_TRAINING.maxSamples)} training
images, a checkpoint every ${thousands(DEMO_TRAINING.checkpointEvery)}) while a watcher turns each checkpoint into
a frame, then prints where the PNGs, the GIF and the TensorBoard files are. Takes a few minutes
on 2 CPU cores.

options:
  --logdir DIR        log directory (default: logs), or s3://bucket/prefix
  --run NAME          run name (default: demo-<date>-<time>)
  --val-size N        test images per frame (default: 1000)
  --data PATH         CIFAR-10 archive or folder (default: $CIFAR10_PATH, else download)
  --backend NAME      tfjs backend for training (default: auto)
  -h, --help          show this help`;

/**
 * Runs `embedding-timelapse <args>` as a child, its output prefixed line by line. It runs in the
 * user's folder, like the demo itself: under `npx` the project folder is inside node_modules.
 */
function startChild(label: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    // The trainer redraws a progress line with \r; show each state of it as its own line.
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      for (const part of line.split('\r')) if (part.trim() !== '') process.stdout.write(`[${label}] ${part}\n`);
    });
  }
  return child;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand('demo', argv, {
    help: HELP,
    options: {
      logdir: { type: 'string' },
      run: { type: 'string' },
      'val-size': { type: 'string' },
      data: { type: 'string' },
      backend: { type: 'string' },
    },
    objectStorage: ['logdir'],
  });
  if (args === null) return 0;
  const { values } = args;
  // As given, for the lines printed; the children get absolute paths.
  const logdir = values.logdir ?? 'logs';
  const runName = values.run ?? `demo-${timestampRunName()}`;
  const valSize = intOption('demo', 'val-size', values['val-size'], 1000, 1);
  const dataArgs = values.data ? ['--data', resolve(values.data)] : [];
  const inBucket = isS3Url(logdir);
  // The children get absolute paths (or the bucket's address); the waiting reads through the storage interface.
  const childLogdir = inBucket ? logdir : resolve(logdir);
  const storage = storageFor(childLogdir);
  const keys = runPaths(runName);
  const key = (path: string) => path.split(sep).join('/');
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(0);

  console.log(`demo: training run '${runName}' in ${logdir}/ with a watcher beside it (Ctrl-C stops both)`);
  console.log(`demo: to watch it live, run in another terminal: ${tensorboardCommand(logdir)}`);
  // Started first, before the run exists: the watcher picks the run up when it appears.
  const watcher = startChild('watch', [
    'watch',
    '--logdir',
    childLogdir,
    '--run',
    runName,
    '--val-size',
    String(valSize),
    // Training takes the other cores (--workers below); one inference and one t-SNE thread keep
    // the two from fighting.
    '--inference-threads',
    '1',
    '--tsne-threads',
    '1',
    '--poll',
    '1',
    ...dataArgs,
  ]);
  const trainer = startChild('train', [
    'train',
    '--logdir',
    childLogdir,
    '--run',
    runName,
    '--blocks',
    DEMO_TRAINING.blocks,
    '--epochs',
    String(DEMO_TRAINING.epochs),
    '--max-samples',
    String(DEMO_TRAINING.maxSamples),
    '--checkpoint-every',
    String(DEMO_TRAINING.checkpointEvery),
    '--val-samples',
    String(DEMO_TRAINING.valSamples),
    '--batch-size',
    String(DEMO_TRAINING.batchSize),
    // Worker threads for the trainer on every core but the watcher's.
    '--workers',
    String(Math.max(1, availableParallelism() - 1)),
    ...(values.backend ? ['--backend', values.backend] : []),
    ...dataArgs,
  ]);

  // Each child stops cleanly on the first signal (the trainer after a checkpoint, the watcher
  // after its frame) and at once on a second; the demo passes both on and waits for them.
  let interrupted = false;
  const releaseSignals = onStopSignals({
    first(signal) {
      interrupted = true;
      console.log(`demo: ${signal}, stopping the trainer and the watcher`);
      trainer.kill(signal);
      watcher.kill(signal);
    },
    again(signal) {
      console.log(`demo: ${signal} again, stopping them at once`);
      trainer.kill(signal);
      watcher.kill(signal);
    },
  });
  try {
    const watcherEnded = exited(watcher);
    const trainerEnded = exited(trainer);
    const training = await Promise.race([trainerEnded, watcherEnded.then(() => null)]);
    if (interrupted) {
      await Promise.all([trainerEnded, watcherEnded]);
      return 130;
    }
    if (training === null) {
      trainer.kill('SIGTERM');
      await exited(trainer);
      throw new UserError('demo: the watcher stopped before training ended; see its [watch] lines above');
    }
    const trainSeconds = seconds();
    if (training.code !== 0) {
      watcher.kill('SIGTERM');
      await watcherEnded;
      throw new UserError(
        `demo: training failed (exit ${training.code ?? training.signal}); see its [train] lines above`,
      );
    }

    // Training is done: wait until the watcher has handled its last checkpoint, then stop it.
    const checkpoints = await completeCheckpointSteps(storage, runName);
    const lastStep = checkpoints.at(-1) ?? -1;
    console.log(
      `demo: training finished after ${trainSeconds} s with ${checkpoints.length} checkpoints; waiting for the ` +
        `watcher to draw the rest`,
    );
    const waited = await waitForWatcher(storage, key(keys.state), lastStep, {
      stop: () =>
        interrupted
          ? 'interrupted'
          : watcher.exitCode !== null || watcher.signalCode !== null
            ? 'watcher exited'
            : undefined,
    });
    if ('stopped' in waited) {
      if (waited.stopped !== 'interrupted')
        throw new UserError('demo: the watcher stopped early; see its [watch] lines above');
      await watcherEnded;
      return 130;
    }
    watcher.kill('SIGTERM');
    await watcherEnded;

    const state = waited.record;
    const frameTimes = state.frames.map((f) => f.frameSeconds);
    const mean = frameTimes.reduce((a, b) => a + b, 0) / Math.max(1, frameTimes.length);
    // In a bucket, the object's address; a local path relative to where the user is.
    const near = (path: string) => {
      const shorter = relative(process.cwd(), path);
      return shorter === '' ? '.' : shorter.startsWith('..') ? path : shorter;
    };
    const shown = (path: string) => (inBucket ? storage.location(key(path)) : near(join(resolve(logdir), path)));
    console.log(
      `
demo finished in ${seconds()} s (training ${trainSeconds} s): ${state.frames.length} frames, ` +
        `${state.skipped.length} skipped, ${mean.toFixed(1)} s per frame on average

  timelapse page ${shown(keys.page)}  (live: npm run view -- --logdir ${inBucket ? logdir : near(resolve(logdir))})
  animation      ${shown(keys.gif)}
  frames (PNG)   ${shown(keys.images)}/step-*.png
  2-D frames     ${shown(keys.frames)}/step-*.tsv
  TensorBoard    ${shown(keys.runDir)}/events.out.tfevents.*  (training)
                 ${shown(keys.events)}/events.out.tfevents.*  (watcher: run '${runName}/embeddings')
  projector      ${shown(keys.projectorConfig)}
  checkpoints    ${shown(keys.checkpoints)}/

look at it:
  ${tensorboardCommand(logdir)}
(--samples_per_plugin keeps every frame on the slider; without it TensorBoard keeps 10 per tag)`,
    );
    return 0;
  } finally {
    releaseSignals();
    if (trainer.exitCode === null && trainer.signalCode === null) trainer.kill('SIGKILL');
    if (watcher.exitCode === null && watcher.signalCode === null) watcher.kill('SIGKILL');
  }
}
