/**
 * `embedding-timelapse watch`: the daemon that turns every checkpoint under a log directory into
 * one frame of the t-SNE animation (TensorBoard image, scalars and projector entry, PNG, GIF).
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
// choose.ts, not backend/index.ts: parsing the option must not load tfjs.
import { parseBackendChoice } from '../backend/choose.ts';
import { UserError } from '../errors.ts';
import { tensorboardCommand } from '../tensorboard/command.ts';
import { Watcher } from '../watch/daemon.ts';
import { projectorSource } from '../watch/sources/projector.ts';
import { jsonReporter, textReporter } from '../watch/report.ts';
import { intOption, numberOption, optionalIntOption, parseCommand } from './args.ts';
import { parseInferenceEngine } from '../embed/index.ts';
import { onStopSignals } from './signals.ts';

const HELP = `usage: embedding-timelapse watch [options]

Turns every checkpoint (<logdir>/<run>/checkpoints/step-NNNNNNNNN/) into one frame: the 128-d
embeddings of fixed test images, t-SNE started from the previous frame, aligned to it, then
written to TensorBoard (image embeddings/tsne, scalars embeddings/*, projector), to
<run>/embeddings/images/step-<step>.png and <run>/embeddings/images/animation.gif.
Start it before or after the trainer; it follows runs that appear later. Stop with Ctrl-C
(the frame in progress is finished; press again to abandon it). A restarted watcher continues.
The embeddings other trainers log for TensorBoard's projector (PyTorch's add_embedding, a
TensorFlow projector_config.pbtxt) become frames the same way, one chain per run and tag, written
to <run>/timelapse/<tag>/; the trainer's own files are only read.
With --logdir s3://bucket/prefix (S3 or an S3-compatible store, see docs/object-storage.md) the
watcher polls the bucket, draws in a local working copy and uploads each frame, state.json last;
a lease in the bucket lets one watcher draw a run while another waits to take over.
A run that cannot be drawn (a damaged file, another watcher's lock) is named in one line and
left alone; the other runs go on. A run is locked only while it is being drawn (and for 30 s
after), so another watcher (--run NAME) can draw a run this one is not working on.

options:
  --logdir DIR              log directory holding the runs (default: logs), or s3://bucket/prefix
  --run NAME                only this run (default: every run under --logdir)
  --val-size N              test images per frame, class-stratified (default: 2000; 10000 = all)
  --once                    process the checkpoints that exist now, then exit (status 1 if a
                            run had to be left alone, after the others are drawn)
  --backend NAME            tfjs backend for --inference tfjs: auto, wasm, webgpu, cpu, tfjs-node,
                            tfjs-node-gpu (default: auto)
  --inference ENGINE        auto, onnx (ONNX Runtime) or tfjs (default: auto)
  --inference-threads N     threads for inference (default: the engine's choice)
  --tsne-threads N          threads for t-SNE, from 500 points per frame (default: every core)
  --data PATH               CIFAR-10 archive or folder (default: $CIFAR10_PATH, else the cache)
  --seed N                  seed of the validation subset and of t-SNE (default: 0)
  --perplexity P            t-SNE perplexity (default: 30)
  --poll SECONDS            look for new checkpoints at least this often (default: 5; s3://: 10)
  --work-dir DIR            s3:// only: the local working copy (default: a temporary folder,
                            removed at exit)
  --lease-ttl SECONDS       s3:// only: how long a run's lease lasts without renewal, after which
                            another watcher takes the run over (default: 30)
  --color-by COLUMN         for other trainers' projector embeddings: the metadata column that
                            colours the points (default: one named like class or label, else the
                            first); up to 20 values get a legend, more or numbers a colour bar
  --settle SECONDS          a projector step folder its config does not list counts as complete
                            once unchanged this long (default: 10)
  --gif-tween K             in-between GIF frames from each checkpoint's frame to the next, points
                            gliding along eased paths (default: 4; 0 = jump from frame to frame)
  --json                    one JSON object per line (NDJSON) instead of text, with per-stage timings
  --verbose                 with an unexpected error (a bug: please report it), show where it
                            happened; with s3://, the requests sent each minute
  -h, --help                show this help`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand('watch', argv, {
    help: HELP,
    options: {
      logdir: { type: 'string' },
      run: { type: 'string' },
      'val-size': { type: 'string' },
      once: { type: 'boolean' },
      backend: { type: 'string' },
      inference: { type: 'string' },
      'inference-threads': { type: 'string' },
      'tsne-threads': { type: 'string' },
      data: { type: 'string' },
      seed: { type: 'string' },
      perplexity: { type: 'string' },
      poll: { type: 'string' },
      'work-dir': { type: 'string' },
      'lease-ttl': { type: 'string' },
      'gif-tween': { type: 'string' },
      'color-by': { type: 'string' },
      settle: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
    },
    objectStorage: ['logdir'],
  });
  if (args === null) return 0;
  const { values } = args;
  const inference = parseInferenceEngine(values.inference);
  const valSize = intOption('watch', 'val-size', values['val-size'], 2000, 1);
  const seed = intOption('watch', 'seed', values.seed, 0);
  const perplexity = numberOption('watch', 'perplexity', values.perplexity, 30);
  if (perplexity <= 0) throw new UserError(`watch: --perplexity must be above 0, got ${perplexity}`);
  const logdir = values.logdir ?? 'logs';
  const remote = /^s3:\/\//i.test(logdir);
  const pollSeconds = numberOption('watch', 'poll', values.poll, remote ? 10 : 5);
  // 0 or less would poll in a tight loop.
  if (!(pollSeconds > 0)) throw new UserError(`watch: --poll must be above 0 seconds, got '${values.poll}'`);
  // More than a dozen makes each frame slow to render and the GIF huge, for no visible gain.
  const gifTween = intOption('watch', 'gif-tween', values['gif-tween'], 4, 0);
  if (gifTween > 12) throw new UserError(`watch: --gif-tween must be 0 to 12, got ${gifTween}`);
  const settleSeconds = numberOption('watch', 'settle', values.settle, 10);
  if (!(settleSeconds >= 0)) throw new UserError(`watch: --settle must be 0 or more seconds, got '${values.settle}'`);
  const threads = optionalIntOption('watch', 'inference-threads', values['inference-threads'], 1);
  const tsneThreads = intOption('watch', 'tsne-threads', values['tsne-threads'], availableParallelism(), 1);
  const reporter = values.json ? jsonReporter() : textReporter();
  const backend = parseBackendChoice(values.backend);
  const leaseTtl = numberOption('watch', 'lease-ttl', values['lease-ttl'], 30);
  if (!(leaseTtl >= 1))
    throw new UserError(`watch: --lease-ttl must be 1 second or more, got '${values['lease-ttl']}'`);
  if (!remote && (values['work-dir'] !== undefined || values['lease-ttl'] !== undefined)) {
    throw new UserError('watch: --work-dir and --lease-ttl are for an s3:// --logdir only');
  }
  // Loaded only for s3:// (the AWS SDK); a missing bucket or wrong credentials: one line before the model loads.
  const { RemoteWatch, checkRemoteLogdir } = remote
    ? await import('../watch/remote/remote-watch.ts')
    : { RemoteWatch: undefined, checkRemoteLogdir: undefined };
  await checkRemoteLogdir?.(logdir);

  // Loaded here, not at the top: `--help` and option mistakes answer without loading tfjs/ORT.
  const { createStages } = await import('../watch/real-stages.ts');
  const stages = await createStages({
    inference,
    threads,
    tsneThreads,
    backend,
    data: values.data,
    log: (line) => reporter.info(line),
  });

  const once = values.once ?? false;
  const watcherOptions = {
    run: values.run,
    once,
    settings: { valSize, seed, perplexity },
    stages,
    reporter,
    pollSeconds,
    gifTween,
    verbose: values.verbose ?? false,
    // Other trainers' projector files are read from local folders only.
    moreSources: remote
      ? undefined
      : () => [projectorSource({ colorBy: values['color-by'], settleSeconds, log: (line) => reporter.info(line) })],
  };
  const watcher = RemoteWatch
    ? new RemoteWatch({ logdir, workDir: values['work-dir'], leaseTtlMs: 1000 * leaseTtl, watcher: watcherOptions })
    : new Watcher({ ...watcherOptions, logdir: resolve(logdir) });

  // First signal: finish the frame in progress and close every writer. Second: abandon the
  // frame (everything written so far is whole, and a restarted watcher redoes that frame).
  let signalled = false;
  const releaseSignals = onStopSignals({
    first(signal) {
      signalled = true;
      reporter.info(`${signal}: finishing the current frame, then stopping (send it again to abandon the frame)`);
      watcher.stop();
    },
    again(signal) {
      reporter.info(`${signal}: abandoning the current frame; a restarted watcher will redo it`);
      process.exit(130);
    },
  });
  try {
    reporter.info(`to look at it: ${tensorboardCommand(logdir)}`);
    const summary = await watcher.run();
    const failed = summary.failedRuns.length;
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    const leftAlone =
      failed === 0 ? '' : `; ${plural(failed, 'run')} left alone (${summary.failedRuns.join(', ')}, see above)`;
    reporter.info(`watcher stopped: ${plural(summary.frames, 'frame')} drawn, ${summary.skipped} skipped${leftAlone}`, {
      frames: summary.frames,
      skipped: summary.skipped,
      failedRuns: summary.failedRuns,
    });
    // A batch job (--once) must notice a run it could not draw; the others were finished first.
    // A live watcher ends by itself only when the one run it was asked for stopped.
    return failed > 0 && (once || !signalled) ? 1 : 0;
  } finally {
    releaseSignals();
  }
}
