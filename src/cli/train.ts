/**
 * `embedding-timelapse train`: options → the training loop (src/train/). Ctrl-C or SIGTERM
 * finishes the current step, writes a checkpoint and exits 0; a second Ctrl-C quits at once.
 */
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { numberOption, optionalIntOption, parseCommand } from './args.ts';
import { onStopSignals } from './signals.ts';
import { initBackend, parseBackendChoice } from '../backend/index.ts';
import { ensureCifarSource, loadCifar10 } from '../data/index.ts';
import { latestCheckpoint, readCheckpointMeta } from '../model/checkpoint.ts';
import { parseBlocks, RESNET_PRESETS } from '../model/resnet.ts';
import { tensorboardCommand } from '../tensorboard/command.ts';
import {
  checkRunStart,
  DEFAULT_BATCH_SIZE,
  DEFAULT_LEARNING_RATE,
  describeIntervals,
  ProgressBar,
  newestRunWithCheckpoints,
  timestampRunName,
  train,
} from '../train/index.ts';
import { checkpointsDir } from '../layout.ts';
import { isS3Url, storageFor } from '../storage/index.ts';
import { BucketRunOutput } from '../train/bucket-output.ts';
import { newestStoredRun, prepareBucketRun, type BucketRun } from '../train/bucket-run.ts';
import { disposing } from '../util/dispose.ts';

const HELP = `usage: embedding-timelapse train [options]

Trains the seed's ResNet on CIFAR-10 (Adam, softmax cross-entropy, flip/crop/rotation
augmentation), logging to TensorBoard in <logdir>/<run>/ and writing checkpoints to
<logdir>/<run>/checkpoints/step-<samples seen>/ for the watcher.

options:
  --data <dir|archive>     CIFAR-10 binary folder or cifar-10-binary.tar.gz
                           (default: $CIFAR10_PATH, else download into .cache/)
  --blocks <list|preset>   basic blocks per stage, e.g. 6,6,12 (default) or a preset:
                           ${Object.entries(RESNET_PRESETS)
                             .map(([k, v]) => `${k} = ${v.join(',')}`)
                             .join(', ')}
  --epochs <n>             epochs to train in total (default 1; with --resume: the run's
                           own target, or one more epoch when it had finished)
  --max-samples <n>        train on a class-balanced subset of n training images per epoch
  --val-samples <n>        validate on a class-balanced subset of n test images (default all)
  --batch-size <n>         default ${DEFAULT_BATCH_SIZE}
  --lr <x>                 Adam learning rate (default 1e-3)
  --seed <n>               initialisation, data order and augmentation (default 0)
  --logdir <dir>           default logs; s3://bucket/prefix for object storage (see README)
  --work-dir <dir>         with s3://: the local folder checkpoints are saved in before they
                           are uploaded (default: a temporary folder, removed at exit)
  --run <name>             default: a timestamp (with --resume: the newest run in --logdir)
  --checkpoint-every <n>   checkpoint every n samples (default ${describeIntervals()};
                           always at step 0, each epoch end and the end)
  --log-every <steps>      steps between train/loss and train/accuracy points (default 5)
  --resume                 continue the run's newest checkpoint (weights, Adam moments, step,
                           epoch, data order) with the run's own --lr, --checkpoint-every and
                           --log-every; giving one of them again changes it from there on
  --backend <name>         auto (default), wasm, webgpu, cpu, tfjs-node, tfjs-node-gpu
  --workers <n>            worker threads training in parallel on wasm, each on its slice of
                           every batch (default: one per core, each >= 16 images of a batch;
                           1: a single thread). A run may resume with another count
  -h, --help               this text

Ctrl-C (or SIGTERM) stops after the current step with a checkpoint; continue with --resume.`;

/** Routes SIGINT/SIGTERM to an AbortController while training runs. */
function stopOnSignals(log: (line: string) => void): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const release = onStopSignals({
    first(name) {
      log(`${name}: stopping after this step and writing a checkpoint (press Ctrl-C again to quit at once)`);
      controller.abort();
    },
    again(name) {
      log(`${name} again: quitting without a checkpoint`);
      process.exit(130);
    },
  });
  return { signal: controller.signal, release };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand('train', argv, {
    help: HELP,
    options: {
      data: { type: 'string' },
      blocks: { type: 'string' },
      epochs: { type: 'string' },
      'max-samples': { type: 'string' },
      'val-samples': { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      logdir: { type: 'string' },
      run: { type: 'string' },
      'checkpoint-every': { type: 'string' },
      'log-every': { type: 'string' },
      resume: { type: 'boolean' },
      backend: { type: 'string' },
      workers: { type: 'string' },
      'work-dir': { type: 'string' },
    },
    objectStorage: ['logdir'],
  });
  if (args === null) return 0;
  const { values } = args;
  const optionalInt = (name: string, value: string | undefined, min: number) =>
    optionalIntOption('train', name, value, min);
  // Left undefined when not given: a resumed run then keeps its own (src/train/settings.ts).
  const learningRate =
    values.lr === undefined ? undefined : numberOption('train', 'lr', values.lr, DEFAULT_LEARNING_RATE);
  if (learningRate !== undefined && learningRate <= 0) {
    throw new UserError(`train: --lr must be positive, got '${values.lr}'`);
  }
  const givenLogdir = values.logdir ?? 'logs';
  const storage = isS3Url(givenLogdir) ? storageFor(givenLogdir) : undefined;
  if (values['work-dir'] !== undefined && storage === undefined) {
    throw new UserError(`train: --work-dir is for an s3:// --logdir; with a local one, checkpoints go there directly`);
  }
  const resume = values.resume ?? false;
  const backendChoice = parseBackendChoice(values.backend);

  let runName = values.run;
  if (runName === undefined && resume) {
    runName = storage ? await newestStoredRun(storage) : await newestRunWithCheckpoints(givenLogdir);
    if (runName === undefined)
      throw new UserError(
        `--resume: no run with checkpoints in ${givenLogdir}; check --logdir, or start without --resume`,
      );
  }
  runName ??= timestampRunName();
  if (runName === '' || /[\\/]/.test(runName) || runName.startsWith('.')) {
    throw new UserError(`--run must be a plain directory name (no slashes, not hidden), got '${runName}'`);
  }

  // On object storage the loop works in a local folder; the bucket gets what it writes.
  const bucketRun: BucketRun | undefined = storage
    ? await prepareBucketRun(storage, {
        run: runName,
        resume,
        workDir: values['work-dir'],
        log: (line) => process.stderr.write(`${line}\n`),
      })
    : undefined;
  await using _work = disposing(() => bucketRun?.dispose());
  const logdir = bucketRun?.workLogdir ?? givenLogdir;

  // A resumed run reads the data it was trained on unless told otherwise.
  let dataFlag = values.data;
  if (resume && dataFlag === undefined && !process.env.CIFAR10_PATH) {
    const latest = await latestCheckpoint(checkpointsDir(join(logdir, runName)));
    const recorded = latest ? (await readCheckpointMeta(latest.dir)).data.source : undefined;
    if (typeof recorded === 'string') dataFlag = recorded;
  }

  const options = {
    logdir,
    run: runName,
    resume,
    epochs: optionalInt('epochs', values.epochs, 1),
    learningRate,
    logEvery: optionalInt('log-every', values['log-every'], 1),
    ...(values.blocks !== undefined ? { blocks: parseBlocks(values.blocks) } : {}),
    maxSamples: optionalInt('max-samples', values['max-samples'], 1),
    valSamples: optionalInt('val-samples', values['val-samples'], 1),
    batchSize: optionalInt('batch-size', values['batch-size'], 1),
    seed: optionalInt('seed', values.seed, 0),
    checkpointEvery: optionalInt('checkpoint-every', values['checkpoint-every'], 1),
    workers: optionalInt('workers', values.workers, 1),
  };

  // Options and data before the backends: a mistake answers at once, not after the probes
  // (which take a second and may load GPU drivers).
  await checkRunStart(options);
  const source = await ensureCifarSource(dataFlag);
  const dataset = await loadCifar10(source);
  const backend = await initBackend(backendChoice);

  const stop = stopOnSignals((line) => process.stderr.write(`\n${line}\n`));
  const progress = new ProgressBar();
  const output = storage ? new BucketRunOutput(storage, runName, { log: (line) => progress.log(line) }) : undefined;
  try {
    const result = await train({ ...options, dataSource: source, backend: backend.name }, dataset, {
      signal: stop.signal,
      progress,
      ...(output ? { output } : {}),
    });
    if (result.lastValidation && Number.isFinite(result.lastValidation.loss)) {
      process.stderr.write(`validation accuracy ${(result.lastValidation.accuracy * 100).toFixed(2)}%\n`);
    }
    process.stderr.write(`${tensorboardCommand(givenLogdir)}   # to look at it\n`);
  } finally {
    stop.release();
  }
  return 0;
}
