/**
 * The watcher daemon: finds the checkpoints of every run under a log directory (now and as they
 * appear), and turns each into one frame, exactly once and in step order per run, one frame at a
 * time. What is done lives in each run's state file, so a restarted watcher goes on from there.
 */
import { join } from 'node:path';
import type { FSWatcher } from 'chokidar';
import { makeDirectory, checkLogDirectory } from '../util/directory.ts';
import { GifWriter } from '../render/index.ts';
import { TimelapsePage } from '../view/page.ts';
import { listRunCheckpoints, listRunsWithCheckpoints, watchForCheckpoints, type CheckpointRef } from './discovery.ts';
import { RunEventLog, type EventLog } from './events.ts';
import { processCheckpoint, type ProjectorOutput, type WritePoint } from './frame.ts';
import { runPaths, stepLabel, type RunPaths } from './paths.ts';
import { acquireRunLock, removeStaleTemporaries } from './lock.ts';
import { createProjectorOutput } from './projector.ts';
import type { Reporter, Stage } from './report.ts';
import type { FrameStages, ValidationSet } from './stages.ts';
import {
  checkSettings, emptyState, lastHandledStep, readFrameTsv, readState, writeState,
  type ChainSettings, type RunState,
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
  /** Called as each stage of a frame starts (tests use it to kill the watcher mid-frame). */
  onStage?: (run: string, step: number, stage: Stage) => void | Promise<void>;
  /** Called after each write of a frame (tests kill the watcher between two writes). */
  onWritten?: (run: string, step: number, what: WritePoint) => void | Promise<void>;
}

export interface WatchSummary {
  frames: number;
  skipped: number;
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
  private readonly summary: WatchSummary = { frames: 0, skipped: 0 };

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
    if (once) await checkLogDirectory(logdir);
    else await makeDirectory(logdir, 'create log directory');
    let fsWatcher: FSWatcher | null = null;
    if (!once) {
      fsWatcher = watchForCheckpoints(logdir, () => this.poke(), this.options.run);
      const which = this.options.run === undefined ? 'every run' : `run '${this.options.run}'`;
      reporter.info(`watching ${logdir} for checkpoints of ${which} (Ctrl-C to stop)`, { logdir, run: this.options.run ?? null });
    }
    try {
      let busySinceIdle = false;
      while (!this.stopping) {
        this.changed = false;
        const next = await this.nextCheckpoint();
        if (next) {
          await this.processOne(next);
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
      if (once && this.sessions.size === 0) {
        const where = this.options.run === undefined ? `${logdir}/*/checkpoints/` : `${logdir}/${this.options.run}/checkpoints/`;
        reporter.info(`no checkpoints found in ${where}; check --logdir${this.options.run === undefined ? '' : ' and --run'}`);
      }
    } finally {
      await fsWatcher?.close();
      await this.close();
    }
    return { ...this.summary };
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
      const { valSize, seed } = this.options.settings;
      this.validation = await this.options.stages.validation(valSize, seed);
      this.options.reporter.info(`validation subset: ${this.validation.count} test images, ${this.validation.classNames.length} classes`, {
        points: this.validation.count,
      });
    }
    return this.validation;
  }

  private async openSession(run: string): Promise<RunSession> {
    const existing = this.sessions.get(run);
    if (existing) return existing;
    const { logdir } = this.options;
    const paths = runPaths(join(logdir, run));
    await makeDirectory(paths.embeddings);
    const releaseLock = await acquireRunLock(paths.lock, run);
    try {
      return await this.openLockedSession(run, paths, releaseLock);
    } catch (error) {
      await releaseLock();
      throw error;
    }
  }

  private async openLockedSession(run: string, paths: RunPaths, releaseLock: () => Promise<void>): Promise<RunSession> {
    const { settings, reporter } = this.options;
    await removeStaleTemporaries([paths.runDir, paths.embeddings, paths.frames, paths.images, paths.projector]);
    const saved = await readState(paths.state);
    if (saved) checkSettings(saved, settings, paths.state);
    const state = saved ?? emptyState(settings);
    const events = await RunEventLog.open(paths.runDir);
    const restored = await events.restore(state.frames, paths.imageFile);
    if (restored > 0) reporter.info(`${run}: wrote ${restored} TensorBoard points the event files had lost, from ${paths.state}`);
    const validation = await this.getValidation();
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
      reporter.info(`${run}: continuing after step ${stepLabel(last.step)} (${state.frames.length} frames, ${state.skipped.length} skipped so far)`, {
        run,
        lastStep: last.step,
      });
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
      const checkpoints = await listRunCheckpoints(logdir, run);
      if (checkpoints.length === 0) continue;
      const session = await this.openSession(run);
      const handled = new Set([...session.state.frames.map((f) => f.step), ...session.state.skipped.map((s) => s.step)]);
      const last = lastHandledStep(session.state);
      for (const checkpoint of checkpoints) {
        if (handled.has(checkpoint.step)) continue;
        if (checkpoint.step < last) {
          await this.recordSkip(session, checkpoint.step, `it appeared after step ${stepLabel(last)} was already drawn, and frames only go forward`);
          continue;
        }
        this.lastRunServed = run;
        return { session, checkpoint };
      }
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
