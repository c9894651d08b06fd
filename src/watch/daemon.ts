/**
 * The watcher daemon: finds the chains of every source under a log directory (now and as they
 * appear), and turns each pending step into one frame, exactly once and in step order per chain,
 * one frame at a time, round robin between chains. A chain is opened (locked) only when it has
 * something to do, and released once it has been idle for a while: a log directory of finished
 * runs costs a listing and a record read per poll, and another watcher can take an idle run.
 *
 * What a failure does:
 *   - a step the user can replace (`UserError` from the source): recorded as skipped (chain.ts)
 *   - a chain the user must fix (a damaged record or event file, another watcher's lock, an
 *     output that cannot be written: `UserError`): that chain is left alone with one line and
 *     tried again later by a live watcher; with `--run` it ends the watcher
 *   - a failure that may pass by itself (`TransientError`): tried again later, nothing recorded
 *   - anything else (a bug): that chain stops with one line (`verbose`: the stack), nothing is
 *     recorded, and the next start tries the step again
 */
import { join } from 'node:path';
import { UserError, isTransientError, isUserError } from '../errors.ts';
import { checkLogDirectory, makeDirectory } from '../util/directory.ts';
import { pathExists } from '../util/exists.ts';
import { effectivePerplexity } from '../tsne/index.ts';
import { RunChain, type StepHooks } from './chain.ts';
import type { Reporter, Stage } from './report.ts';
import type { WritePoint } from './sinks/index.ts';
import { chainName, type ChainKey, type Source, type StepRef } from './source.ts';
import { checkpointSource } from './sources/checkpoints.ts';
import type { FrameStages, ProjectionStages } from './stages.ts';
import type { ChainSettings } from './state.ts';

export interface WatcherOptions {
  logdir: string;
  /** What messages call the log directory (default `logdir`; `s3://…` for a working copy of a bucket). */
  shownLogdir?: string;
  /** Only this run (a folder name under `logdir`). */
  run?: string;
  /** Process what exists, then return. */
  once?: boolean;
  settings: ChainSettings;
  /** The checkpoint model and the projection stages (real-stages.ts, or the tests' own). */
  stages: FrameStages;
  /** Sources besides our own checkpoints (which come from `stages`). */
  moreSources?: (stages: ProjectionStages) => Source[];
  /**
   * Checkpoints of a run known to be unusable, by step, with the reason (the remote watcher's
   * damaged downloads): each becomes a recorded skip in its turn (`StepRef.refused`).
   */
  refusedCheckpoints?: (run: string) => ReadonlyMap<number, string>;
  reporter: Reporter;
  /** In-between GIF frames per step (`--gif-tween`, default 0). */
  gifTween?: number;
  /** How often to look again even without a file-system event (default 5 s). */
  pollSeconds?: number;
  /** How long a live whole-logdir watcher leaves a broken or locked chain alone before trying again (default 30 s). */
  retryRunSeconds?: number;
  /** How long a chain with nothing to do stays open (locked) before it is released (default 30 s). */
  releaseIdleSeconds?: number;
  /** Reports an unexpected error's stack too (`--verbose`). */
  verbose?: boolean;
  /** Called as each stage of a frame starts (tests use it to kill the watcher mid-frame). */
  onStage?: (run: string, step: number, stage: Stage) => void | Promise<void>;
  /** Called after each write of a frame (tests kill the watcher between two writes). */
  onWritten?: (run: string, step: number, what: WritePoint) => void | Promise<void>;
}

export interface WatchSummary {
  frames: number;
  skipped: number;
  /**
   * Chains a whole-logdir watcher left alone (a damaged file, another watcher's lock) or stopped
   * (an unexpected error), each reported in one line when it happened; empty when all were drawn.
   */
  failedRuns: string[];
}

/**
 * A live watcher tries a chain it left alone again by itself: advice to "start again" (a full
 * disk, too many open files) would send the user to restart what is still running.
 */
function retriedByItself(reason: string, retrySeconds: number): string {
  return reason.replace(/(,? then| and) start again$/, `; this watcher tries again every ${retrySeconds} s`);
}

interface Found {
  source: Source;
  key: ChainKey;
  name: string;
}

interface OpenChain {
  chain: RunChain;
  /** When it last had something to do (ms). */
  busyAt: number;
}

export class Watcher {
  private readonly options: WatcherOptions;
  private readonly sources: Source[];
  private readonly open = new Map<string, OpenChain>();
  private stopping = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private changed = true;
  private lastServed = '';
  private chainsWithSteps = 0;
  private readonly summary = { frames: 0, skipped: 0 };
  /** Chains left alone, with the reason reported and when a live watcher may try again (never: stopped). */
  private readonly failed = new Map<string, { reason: string; retryAt: number }>();
  /** Chains opened at least once by this watcher. */
  private readonly openedBefore = new Set<string>();
  /** Point counts whose perplexity was already checked and said. */
  private readonly perplexityChecked = new Set<number>();

  constructor(options: WatcherOptions) {
    this.options = options;
    const { settings, reporter } = options;
    const own = checkpointSource(options.stages, {
      valSize: settings.valSize,
      seed: settings.seed,
      log: (line, fields) => reporter.info(line, fields),
      refused: options.refusedCheckpoints,
    });
    this.sources = [own, ...(options.moreSources?.(options.stages) ?? [])];
  }

  /** Finish the frame in progress, then return from `run()`. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  async run(): Promise<WatchSummary> {
    const { logdir, once, reporter, run } = this.options;
    // A live watcher may start before the trainer has made the log directory; --once may not.
    if (once) {
      await checkLogDirectory(logdir);
      await this.checkRunExists();
    } else {
      await makeDirectory(logdir, 'create log directory');
    }
    const watchers = once ? [] : this.sources.map((source) => source.watch(logdir, () => this.poke(), run));
    if (!once) {
      const which = run === undefined ? 'every run' : `run '${run}'`;
      const shown = this.options.shownLogdir ?? logdir;
      reporter.info(`watching ${shown} for checkpoints of ${which} (Ctrl-C to stop)`, {
        logdir: shown,
        run: run ?? null,
      });
    }
    try {
      let busySinceIdle = false;
      while (!this.stopping) {
        this.changed = false;
        const next = await this.nextStep();
        await this.releaseIdleChains(next?.open);
        if (next) {
          await this.guard(next.open.chain.name, () => this.drawOne(next.open, next.step));
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
      if (once && this.chainsWithSteps === 0 && this.failed.size === 0) {
        const shown = this.options.shownLogdir ?? logdir;
        const where = run === undefined ? `${shown}/*/checkpoints/` : `${shown}/${run}/checkpoints/`;
        reporter.info(`no checkpoints found in ${where}; check --logdir${run === undefined ? '' : ' and --run'}`);
      }
    } finally {
      for (const watcher of watchers) await watcher.close();
      await this.close();
    }
    return { ...this.summary, failedRuns: [...this.failed.keys()].sort() };
  }

  /** `--once --run NAME` for a run that is not there is a mistake, not "nothing to do". */
  private async checkRunExists(): Promise<void> {
    const { logdir, run } = this.options;
    if (run === undefined) return;
    if (await pathExists(join(logdir, run))) return;
    const runs = new Set<string>();
    for (const source of this.sources) for (const key of await source.listChains(logdir)) runs.add(key.run);
    const known =
      runs.size === 0 ? 'it has no runs with checkpoints' : `runs with checkpoints: ${[...runs].join(', ')}`;
    throw new UserError(`no run '${run}' in ${logdir} (${known}); check --run and --logdir`);
  }

  /**
   * Runs `work` for one chain and applies the failure policy (see the header). Returns null when
   * the chain failed.
   */
  private async guard<T>(name: string, work: () => Promise<T>): Promise<T | null> {
    try {
      const result = await work();
      this.failed.delete(name);
      return result;
    } catch (error) {
      if (isUserError(error)) {
        if (this.options.run !== undefined) throw error;
        const retrySeconds = this.options.retryRunSeconds ?? 30;
        const reason = this.options.once ? error.message : retriedByItself(error.message, retrySeconds);
        await this.leaveAlone(name, reason, Date.now() + 1000 * retrySeconds);
      } else if (isTransientError(error)) {
        await this.leaveAlone(name, `${error.message}; trying again later`, Date.now() + 1000 * this.pollSeconds());
      } else {
        await this.stopChain(name, error);
      }
      return null;
    }
  }

  private async leaveAlone(name: string, reason: string, retryAt: number): Promise<void> {
    await this.release(name);
    const earlier = this.failed.get(name);
    this.failed.set(name, { reason, retryAt });
    // A live watcher tries the chain again now and then; it says so again only when the reason changes.
    if (earlier?.reason !== reason)
      this.options.reporter.error(`leaving run '${name}' alone: ${reason}`, { run: name, reason });
  }

  /** A bug, not the user's data: nothing is recorded, the chain waits for the next start. */
  private async stopChain(name: string, error: unknown): Promise<void> {
    await this.release(name);
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
    const how = this.options.verbose ? '' : ' (--verbose shows where)';
    this.failed.set(name, { reason: message, retryAt: Infinity });
    this.options.reporter.error(
      `stopped drawing run '${name}': unexpected error: ${message}${how}; nothing was recorded, the next start ` +
        'tries that step again',
      { run: name, reason: message },
    );
    if (this.options.verbose && error instanceof Error && error.stack) this.options.reporter.error(error.stack);
    // With --run that chain was all the user asked for.
    if (this.options.run !== undefined) this.stop();
  }

  private mayTry(name: string): boolean {
    const failed = this.failed.get(name);
    return failed === undefined || (!this.options.once && Date.now() >= failed.retryAt);
  }

  private pollSeconds(): number {
    return this.options.pollSeconds ?? 5;
  }

  /** Look for new steps now (something outside the file system's events knows of one). */
  poke(): void {
    this.changed = true;
    this.wake?.();
  }

  private waitForChange(): Promise<void> {
    if (this.changed || this.stopping) return Promise.resolve();
    const pollMs = 1000 * this.pollSeconds();
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

  /** Chains closed, locks released, workers and models freed. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const name of [...this.open.keys()]) await this.release(name);
    for (const source of this.sources) await source.dispose();
  }

  private async release(name: string): Promise<void> {
    const open = this.open.get(name);
    if (!open) return;
    this.open.delete(name);
    await open.chain.close();
  }

  /** Chains with nothing to do for `releaseIdleSeconds` are closed: their lock is free again. */
  private async releaseIdleChains(keep?: OpenChain): Promise<void> {
    const idleMs = 1000 * (this.options.releaseIdleSeconds ?? 30);
    const now = Date.now();
    for (const [name, open] of [...this.open]) {
      if (open !== keep && now - open.busyAt >= idleMs) await this.release(name);
    }
  }

  private async allChains(): Promise<Found[]> {
    const found: Found[] = [];
    for (const source of this.sources) {
      for (const key of await source.listChains(this.options.logdir, this.options.run)) {
        found.push({ source, key, name: chainName(key) });
      }
    }
    return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The next step to draw: the lowest pending step of the chain after the one served last (round
   * robin, so two runs trained at once both advance).
   */
  private async nextStep(): Promise<{ open: OpenChain; step: StepRef } | null> {
    const chains = await this.allChains();
    const after = chains.filter((c) => c.name > this.lastServed);
    const ordered = [...after, ...chains.filter((c) => c.name <= this.lastServed)];
    let withSteps = 0;
    for (const found of ordered) {
      if (!this.mayTry(found.name)) continue;
      const next = await this.guard(found.name, async () => {
        const steps = await found.source.listSteps(this.options.logdir, found.key);
        if (steps.length > 0) withSteps++;
        return this.nextOfChain(found, steps);
      });
      if (next) {
        this.lastServed = found.name;
        this.chainsWithSteps = Math.max(this.chainsWithSteps, withSteps);
        return next;
      }
    }
    this.chainsWithSteps = Math.max(this.chainsWithSteps, withSteps);
    return null;
  }

  private async nextOfChain(found: Found, steps: StepRef[]): Promise<{ open: OpenChain; step: StepRef } | null> {
    let open = this.open.get(found.name);
    if (!open) {
      const layout = RunChain.layoutOf(this.options.logdir, found.key);
      if (!(await RunChain.hasWork(layout, steps, this.options.settings))) return null;
      open = { chain: await this.openChain(found), busyAt: Date.now() };
      this.open.set(found.name, open);
    }
    const { next, skipped } = await open.chain.nextStep(steps);
    for (const skip of skipped) this.reportSkip(found.name, skip.step, skip.reason);
    if (skipped.length > 0 || next) open.busyAt = Date.now();
    return next ? { open, step: next } : null;
  }

  private async openChain(found: Found): Promise<RunChain> {
    const { logdir, settings, stages, reporter, gifTween } = this.options;
    const chain = await RunChain.open({
      logdir,
      key: found.key,
      source: found.source,
      stages,
      settings,
      gifTween: gifTween ?? 0,
      info: (line, fields) => reporter.info(line, fields),
      announce: !this.openedBefore.has(found.name),
    });
    this.openedBefore.add(found.name);
    this.sayPerplexity(chain.pointCount);
    return chain;
  }

  /** Record what is actually used: t-SNE lowers a perplexity the points are too few for (said once per count). */
  private sayPerplexity(count: number): void {
    if (this.perplexityChecked.has(count)) return;
    this.perplexityChecked.add(count);
    const { perplexity } = this.options.settings;
    const used = effectivePerplexity(perplexity, count);
    if (used < perplexity) {
      this.options.reporter.info(`perplexity ${perplexity} lowered to ${used}: the subset has only ${count} images`, {
        perplexity,
        effectivePerplexity: used,
      });
    }
  }

  private reportSkip(name: string, step: number, reason: string): void {
    this.summary.skipped++;
    this.options.reporter.skipped(name, step, reason);
  }

  private async drawOne(open: OpenChain, step: StepRef): Promise<void> {
    const { onStage, onWritten, reporter } = this.options;
    const { chain } = open;
    reporter.started(chain.name, step.step, step.where);
    const hooks: StepHooks = {
      onStage: onStage ? (stage) => onStage(chain.name, step.step, stage) : undefined,
      onWritten: onWritten ? (what) => onWritten(chain.name, step.step, what) : undefined,
    };
    const outcome = await chain.draw(step, hooks);
    open.busyAt = Date.now();
    if (outcome.kind === 'skipped') {
      this.reportSkip(chain.name, step.step, outcome.reason);
      return;
    }
    this.summary.frames++;
    reporter.frame(outcome.report);
  }
}
