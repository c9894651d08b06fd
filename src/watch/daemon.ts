/**
 * The watcher daemon: finds the checkpoints of every run under a log directory (now and as they
 * appear), and turns each into one frame, exactly once and in step order per run, one frame at a
 * time. What is done lives in each run's state file, so a restarted watcher goes on from there.
 */
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FSWatcher } from 'chokidar';
import { UserError, isUserError } from '../errors.ts';
import { makeDirectory, checkLogDirectory } from '../util/directory.ts';
import { pathExists } from '../util/exists.ts';
import { GifWriter } from '../render/index.ts';
import { TimelapsePage } from '../view/page.ts';
import { listRunCheckpoints, listRunsWithCheckpoints, watchForCheckpoints, type CheckpointRef } from './discovery.ts';
import { RunEventLog, type EventLog } from './events.ts';
import { processCheckpoint, type ProjectorOutput, type WritePoint } from './frame.ts';
import { runPaths, stepLabel, type RunPaths } from './paths.ts';
import { acquireRunLock, removeStaleTemporaries } from './lock.ts';
import { createProjectorOutput } from './projector.ts';
import { effectivePerplexity } from '../tsne/index.ts';
import type { Reporter, Stage } from './report.ts';
import type { FrameStages, ValidationSet } from './stages.ts';
import {
  checkSettings,
  checkValidationFingerprint,
  emptyState,
  lastHandledStep,
  readFrameTsv,
  readState,
  validationFingerprint,
  writeState,
  type ChainSettings,
  type RunState,
} from './state.ts';

export interface WatcherOptions {
  logdir: string;
  /** Only this run (a folder name under `logdir`). */
  run?: string;
  /** Process what exists, then return. */
  once?: boolean;
  settings: ChainSettings;
  stages: FrameStages;
  reporter: Reporter;
  /** In-between GIF frames per checkpoint (`--gif-tween`, default 0). */
  gifTween?: number;
  /** How often to look again even without a file-system event (default 5 s). */
  pollSeconds?: number;
  /** How long a live whole-logdir watcher leaves a broken or locked run alone before trying it again (default 30 s). */
  retryRunSeconds?: number;
  /** Called as each stage of a frame starts (tests use it to kill the watcher mid-frame). */
  onStage?: (run: string, step: number, stage: Stage) => void | Promise<void>;
  /** Called after each write of a frame (tests kill the watcher between two writes). */
  onWritten?: (run: string, step: number, what: WritePoint) => void | Promise<void>;
}

export interface WatchSummary {
  frames: number;
  skipped: number;
  /**
   * Runs a whole-logdir watcher left alone (a damaged file, another watcher's lock), each
   * reported in one line when it happened; empty when every run could be drawn.
   */
  failedRuns: string[];
}

/** Everything the watcher holds open for one run. */
interface RunSession {
  name: string;
  paths: RunPaths;
  state: RunState;
  events: RunEventLog;
  gif: GifWriter;
  projector: ProjectorOutput;
  page: TimelapsePage;
  previous: Float64Array | null;
  releaseLock: () => Promise<void>;
}

export class Watcher {
  private readonly options: WatcherOptions;
  private readonly sessions = new Map<string, RunSession>();
  private validation: ValidationSet | null = null;
  private stopping = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private changed = true;
  private lastRunServed = '';
  private readonly summary = { frames: 0, skipped: 0 };
  /** Runs left alone, with the reason reported and when a live watcher may try again. */
  private readonly failedRuns = new Map<string, { reason: string; retryAt: number }>();

  constructor(options: WatcherOptions) {
    this.options = options;
  }

  /** Finish the frame in progress, then return from `run()`. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  async run(): Promise<WatchSummary> {
    const { logdir, once, reporter } = this.options;
    // A live watcher may start before the trainer has made the log directory; --once may not.
    if (once) {
      await checkLogDirectory(logdir);
      await this.checkRunExists();
    } else {
      await makeDirectory(logdir, 'create log directory');
    }
    let fsWatcher: FSWatcher | null = null;
    if (!once) {
      fsWatcher = watchForCheckpoints(logdir, () => this.poke(), this.options.run);
      const which = this.options.run === undefined ? 'every run' : `run '${this.options.run}'`;
      reporter.info(`watching ${logdir} for checkpoints of ${which} (Ctrl-C to stop)`, {
        logdir,
        run: this.options.run ?? null,
      });
    }
    try {
      let busySinceIdle = false;
      while (!this.stopping) {
        this.changed = false;
        const next = await this.nextCheckpoint();
        if (next) {
          await this.guardRun(next.session.name, () => this.processOne(next));
          busySinceIdle = true;
          continue;
        }
        if (once) break;
        if (busySinceIdle) {
          reporter.info('up to date; waiting for the next checkpoint');
          busySinceIdle = false;
        }
        await this.waitForChange();
      }
      if (once && this.sessions.size === 0 && this.failedRuns.size === 0) {
        const where =
          this.options.run === undefined ? `${logdir}/*/checkpoints/` : `${logdir}/${this.options.run}/checkpoints/`;
        reporter.info(
          `no checkpoints found in ${where}; check --logdir${this.options.run === undefined ? '' : ' and --run'}`,
        );
      }
    } finally {
      await fsWatcher?.close();
      await this.close();
    }
    return { ...this.summary, failedRuns: [...this.failedRuns.keys()] };
  }

  /** `--once --run NAME` for a run that is not there is a mistake, not "nothing to do". */
  private async checkRunExists(): Promise<void> {
    const { logdir, run } = this.options;
    if (run === undefined) return;
    if (await pathExists(join(logdir, run))) return;
    const runs = await listRunsWithCheckpoints(logdir);
    const known = runs.length === 0 ? 'it has no runs with checkpoints' : `runs with checkpoints: ${runs.join(', ')}`;
    throw new UserError(`no run '${run}' in ${logdir} (${known}); check --run and --logdir`);
  }

  /**
   * Runs `work` for one run. Watching a whole log directory, a user-fixable failure of one run
   * (a damaged event or state file, another watcher's lock, an output that cannot be written)
   * must not stop the others: the run is reported in one line and left alone. With `--run`,
   * that run is all the user asked for, so its failure ends the watcher.
   */
  private async guardRun<T>(run: string, work: () => Promise<T>): Promise<T | null> {
    try {
      const result = await work();
      this.failedRuns.delete(run);
      return result;
    } catch (error) {
      if (this.options.run !== undefined || !isUserError(error)) throw error;
      await this.leaveRunAlone(run, error.message);
      return null;
    }
  }

  private async leaveRunAlone(run: string, reason: string): Promise<void> {
    const session = this.sessions.get(run);
    if (session) {
      this.sessions.delete(run);
      await session.events.close().catch(() => undefined);
      await session.releaseLock();
    }
    const earlier = this.failedRuns.get(run);
    const retryAt = Date.now() + 1000 * (this.options.retryRunSeconds ?? 30);
    this.failedRuns.set(run, { reason, retryAt });
    // A live watcher tries the run again now and then; it says so again only when the reason changes.
    if (earlier?.reason !== reason) {
      this.options.reporter.error(`leaving run '${run}' alone: ${reason}`, { run, reason });
    }
  }

  private mayTry(run: string): boolean {
    const failed = this.failedRuns.get(run);
    return failed === undefined || (!this.options.once && Date.now() >= failed.retryAt);
  }

  private poke(): void {
    this.changed = true;
    this.wake?.();
  }

  private waitForChange(): Promise<void> {
    if (this.changed || this.stopping) return Promise.resolve();
    const pollMs = 1000 * (this.options.pollSeconds ?? 5);
    return new Promise((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /** `await using watcher = new Watcher(...)`: closes it on every way out. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Writers closed, locks released, workers and models freed. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const session of this.sessions.values()) {
      await session.events.close();
      await session.releaseLock();
    }
    this.sessions.clear();
    await this.options.stages.dispose();
  }

  private async getValidation(): Promise<ValidationSet> {
    if (this.validation === null) {
      const { valSize, seed, perplexity } = this.options.settings;
      this.validation = await this.options.stages.validation(valSize, seed);
      const { count } = this.validation;
      this.options.reporter.info(
        `validation subset: ${count} test images, ${this.validation.classNames.length} classes`,
        {
          points: count,
        },
      );
      // Record what is actually used: t-SNE lowers a perplexity the subset is too small for.
      const used = effectivePerplexity(perplexity, count);
      if (used < perplexity) {
        this.options.reporter.info(`perplexity ${perplexity} lowered to ${used}: the subset has only ${count} images`, {
          perplexity,
          effectivePerplexity: used,
        });
      }
    }
    return this.validation;
  }

  private async openSession(run: string): Promise<RunSession> {
    const existing = this.sessions.get(run);
    if (existing) return existing;
    const { logdir } = this.options;
    const paths = runPaths(join(logdir, run));
    // The data first: a wrong --data must fail before anything is created in the run.
    await this.getValidation();
    const hadEmbeddings = await pathExists(paths.embeddings);
    await makeDirectory(paths.embeddings);
    let releaseLock: (() => Promise<void>) | null = null;
    try {
      releaseLock = await acquireRunLock(paths.lock, run);
      return await this.openLockedSession(run, paths, releaseLock);
    } catch (error) {
      await releaseLock?.();
      // A watcher that could not start leaves no empty embeddings/ behind (rmdir keeps a full one).
      if (!hadEmbeddings) await rmdir(paths.embeddings).catch(() => undefined);
      throw error;
    }
  }

  private async openLockedSession(run: string, paths: RunPaths, releaseLock: () => Promise<void>): Promise<RunSession> {
    const { settings, reporter } = this.options;
    await removeStaleTemporaries([paths.runDir, paths.embeddings, paths.frames, paths.images, paths.projector]);
    const validation = await this.getValidation();
    const fingerprint = validationFingerprint(validation);
    const saved = await readState(paths.state);
    if (saved) {
      checkSettings(saved, settings, paths.state);
      checkValidationFingerprint(saved, fingerprint, paths.state);
    }
    const state = saved ?? emptyState(settings, fingerprint);
    if (state.validationFingerprint === undefined) {
      // A chain from before fingerprints: these images are taken to be its images from now on.
      state.validationFingerprint = fingerprint;
      await writeState(paths.state, state);
    }
    const events = await RunEventLog.open(paths.events, paths.runDir);
    const restored = await events.restore(state.frames, paths.imageFile);
    if (restored > 0)
      reporter.info(`${run}: wrote ${restored} TensorBoard points the event files had lost, from ${paths.state}`);
    const last = state.frames.at(-1);
    const previous = last ? await readFrameTsv(paths.frameFile(last.step), validation.count) : null;
    const projector = await createProjectorOutput(paths.runDir, validation);
    const { embeddings: embeddingsDir, frameFile } = paths;
    const page = new TimelapsePage({ run, embeddingsDir, points: validation, frameFile });
    // A restarted watcher rewrites the page first: the previous one may have died before writing it.
    if (state.frames.length > 0) await page.update(state.frames);
    const gif = new GifWriter(paths.gif);
    const session: RunSession = { name: run, paths, state, events, gif, projector, page, previous, releaseLock };
    this.sessions.set(run, session);
    if (last) {
      reporter.info(
        `${run}: continuing after step ${stepLabel(last.step)} (${state.frames.length} frames, ` +
          `${state.skipped.length} skipped so far)`,
        {
          run,
          lastStep: last.step,
        },
      );
    }
    return session;
  }

  /**
   * The next checkpoint to process: the lowest pending step of the run after the one served
   * last (round robin, so two runs trained at once both advance). Checkpoints below a run's last
   * frame are recorded as skipped with a reason: frames only go forward.
   */
  private async nextCheckpoint(): Promise<{ session: RunSession; checkpoint: CheckpointRef } | null> {
    const { logdir } = this.options;
    const runs = await listRunsWithCheckpoints(logdir, this.options.run);
    const ordered = [...runs.filter((r) => r > this.lastRunServed), ...runs.filter((r) => r <= this.lastRunServed)];
    for (const run of ordered) {
      if (!this.mayTry(run)) continue;
      const next = await this.guardRun(run, () => this.nextOfRun(run));
      if (next) {
        this.lastRunServed = run;
        return next;
      }
    }
    return null;
  }

  private async nextOfRun(run: string): Promise<{ session: RunSession; checkpoint: CheckpointRef } | null> {
    const checkpoints = await listRunCheckpoints(this.options.logdir, run);
    if (checkpoints.length === 0) return null;
    const session = await this.openSession(run);
    const handled = new Set([...session.state.frames.map((f) => f.step), ...session.state.skipped.map((s) => s.step)]);
    const last = lastHandledStep(session.state);
    for (const checkpoint of checkpoints) {
      if (handled.has(checkpoint.step)) continue;
      if (checkpoint.step < last) {
        const why = `it appeared after step ${stepLabel(last)} was already drawn, and frames only go forward`;
        await this.recordSkip(session, checkpoint.step, why);
        continue;
      }
      return { session, checkpoint };
    }
    return null;
  }

  private async recordSkip(session: RunSession, step: number, reason: string): Promise<void> {
    session.state.skipped.push({ step, reason, time: new Date().toISOString() });
    await writeState(session.paths.state, session.state);
    this.summary.skipped++;
    this.options.reporter.skipped(session.name, step, reason);
  }

  private async processOne({ session, checkpoint }: { session: RunSession; checkpoint: CheckpointRef }): Promise<void> {
    const { onStage, onWritten } = this.options;
    this.options.reporter.started(session.name, checkpoint.step, checkpoint.dir);
    const outcome = await processCheckpoint(
      {
        run: session.name,
        paths: session.paths,
        validation: await this.getValidation(),
        stages: this.options.stages,
        settings: this.options.settings,
        state: session.state,
        previous: session.previous,
        events: session.events as EventLog,
        gif: session.gif,
        projector: session.projector,
        page: session.page,
        gifTween: this.options.gifTween,
        onStage: onStage ? (stage) => onStage(session.name, checkpoint.step, stage) : undefined,
        onWritten: onWritten ? (what) => onWritten(session.name, checkpoint.step, what) : undefined,
      },
      checkpoint,
    );
    if (outcome.kind === 'skipped') {
      await this.recordSkip(session, checkpoint.step, `${checkpoint.dir} cannot be used: ${outcome.reason}`);
      return;
    }
    session.previous = outcome.positions;
    this.summary.frames++;
    this.options.reporter.frame(outcome.report);
  }
}
