/**
 * One chain, open: the only owner of its record (state.json), its previous frame, its lock and
 * its sinks. A step becomes a frame in a fixed order:
 *
 *   source.load            the step's embeddings (a step the user can replace: a recorded skip)
 *   tsne, align, measure   pure stages
 *   render                 the picture and the in-between pictures
 *   write                  frame files, projector, GIF, TensorBoard events (FRAME_SINKS, in order),
 *                          then state.json (the commit point), then the page (RECORD_VIEWS)
 *
 * Every sink's write is idempotent, so a watcher killed at any moment simply redoes the frame.
 */
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeFrame } from '../align/index.ts';
import { isUserError, UserError } from '../errors.ts';
import { chainLayout, stepLabel, type ChainLayout } from '../layout.ts';
import { makeDirectory } from '../util/directory.ts';
import { pathExists } from '../util/exists.ts';
import { acquireRunLock, removeStaleTemporaries } from './lock.ts';
import { handledSteps, lastHandledStep, type FrameRecord } from './record.ts';
import { renderFrame } from './render-frame.ts';
import type { FrameReport, Stage } from './report.ts';
import {
  FRAME_SINKS,
  RECORD_VIEWS,
  type DrawnFrame,
  type FrameSink,
  type SinkSpec,
  type WritePoint,
} from './sinks/index.ts';
import { chainName, type ChainKey, type PointSet, type Source, type StepRef } from './source.ts';
import type { ProjectionStages } from './stages.ts';
import {
  checkSettings,
  openRecord,
  readFrameTsv,
  readState,
  writeState,
  type ChainSettings,
  type RunState,
} from './state.ts';
import { StageTimer } from './timer.ts';

export interface ChainOptions {
  logdir: string;
  key: ChainKey;
  source: Source;
  stages: ProjectionStages;
  settings: ChainSettings;
  /** In-between GIF frames from each frame to the next (`--gif-tween`); 0 = none. */
  gifTween: number;
  info: (line: string, fields?: Record<string, unknown>) => void;
  /** Say where the chain continues (once per watcher: not again when an idle chain is reopened). */
  announce: boolean;
}

/** Called as each stage of a frame starts and after each write (tests kill the watcher there). */
export interface StepHooks {
  onStage?: (stage: Stage) => void | Promise<void>;
  onWritten?: (what: WritePoint) => void | Promise<void>;
}

export type StepOutcome = { kind: 'frame'; report: FrameReport } | { kind: 'skipped'; reason: string };

/** The steps of `steps` the record has not handled yet, ascending. */
function pendingSteps(record: RunState | null, steps: readonly StepRef[]): StepRef[] {
  if (record === null) return [...steps];
  const handled = handledSteps(record);
  return steps.filter((step) => !handled.has(step.step));
}

export class RunChain {
  readonly name: string;
  readonly layout: ChainLayout;
  private record: RunState;
  private previous: { step: number; positions: Float64Array } | null;
  private closed = false;

  private constructor(
    private readonly options: ChainOptions,
    layout: ChainLayout,
    private readonly points: PointSet,
    record: RunState,
    private readonly sinks: { spec: SinkSpec; sink: FrameSink }[],
    private readonly views: { spec: SinkSpec; sink: FrameSink }[],
    private readonly releaseLock: () => Promise<void>,
    previous: { step: number; positions: Float64Array } | null,
  ) {
    this.name = chainName(options.key);
    this.layout = layout;
    this.record = record;
    this.previous = previous;
  }

  get pointCount(): number {
    return this.points.count;
  }

  static layoutOf(logdir: string, key: ChainKey): ChainLayout {
    return chainLayout(join(logdir, key.run), key.tag);
  }

  /**
   * Whether the chain has anything to do: a step its record has not handled, or an output written
   * after the commit that is behind the record. Reads the record without taking the lock: an idle
   * chain costs a file read, not an open. A record made with other settings is refused here
   * already: the user asked for something this chain cannot be.
   */
  static async hasWork(layout: ChainLayout, steps: readonly StepRef[], settings: ChainSettings): Promise<boolean> {
    if (steps.length === 0) return false;
    const record = await readState(layout.state);
    if (record !== null) checkSettings(record, settings, layout.state);
    if (pendingSteps(record, steps).length > 0) return true;
    if (record === null) return false;
    for (const spec of RECORD_VIEWS) if (await spec.behind?.(layout, record)) return true;
    return false;
  }

  /**
   * Takes the chain's lock, reads its record (checking it was made with these settings and these
   * points) and opens every sink, which brings its output up to the record.
   */
  static async open(options: ChainOptions): Promise<RunChain> {
    const layout = RunChain.layoutOf(options.logdir, options.key);
    const name = chainName(options.key);
    // The points first: a wrong --data must fail before anything is created in the run.
    const points = await options.source.points(options.logdir, options.key);
    const hadFolder = await pathExists(layout.embeddings);
    await makeDirectory(layout.embeddings);
    let releaseLock: (() => Promise<void>) | null = null;
    const opened: { spec: SinkSpec; sink: FrameSink }[] = [];
    try {
      releaseLock = await acquireRunLock(layout.lock, name);
      await removeStaleTemporaries([layout.runDir, layout.embeddings, layout.frames, layout.images, layout.projector]);
      const record = await openRecord(layout.state, options.settings, points);
      const last = record.frames.at(-1);
      const previous = last
        ? { step: last.step, positions: await readFrameTsv(layout.frameFile(last.step), points.count) }
        : null;
      const context = { name, layout, points, record, info: options.info };
      // Opened last-written first: the event log reads the most and refuses a damaged file before
      // the other sinks have written anything.
      for (const spec of [...FRAME_SINKS, ...RECORD_VIEWS].reverse()) {
        opened.push({ spec, sink: await spec.open(context) });
      }
      opened.reverse();
      const sinks = opened.slice(0, FRAME_SINKS.length);
      const views = opened.slice(FRAME_SINKS.length);
      if (last && options.announce) {
        options.info(
          `${name}: continuing after step ${stepLabel(last.step)} (${record.frames.length} frames, ` +
            `${record.skipped.length} skipped so far)`,
          { run: name, lastStep: last.step },
        );
      }
      return new RunChain(options, layout, points, record, sinks, views, releaseLock, previous);
    } catch (error) {
      for (const { sink } of opened) await sink.close().catch(() => undefined);
      await releaseLock?.();
      // A chain that could not open leaves no empty folder behind (rmdir keeps a full one).
      if (!hadFolder) await rmdir(layout.embeddings).catch(() => undefined);
      throw error;
    }
  }

  /**
   * The next step to draw, after recording as skipped every pending step below the last handled
   * one (frames only go forward); null when the chain is up to date.
   */
  async nextStep(
    steps: readonly StepRef[],
  ): Promise<{ next: StepRef | null; skipped: { step: number; reason: string }[] }> {
    const skipped: { step: number; reason: string }[] = [];
    const last = lastHandledStep(this.record);
    for (const step of pendingSteps(this.record, steps)) {
      if (step.step > last) return { next: step, skipped };
      const reason = `it appeared after step ${stepLabel(last)} was already drawn, and frames only go forward`;
      await this.skip(step.step, reason);
      skipped.push({ step: step.step, reason });
    }
    return { next: null, skipped };
  }

  /** Draws one step and commits it, or records why it cannot be drawn. */
  async draw(step: StepRef, hooks: StepHooks = {}): Promise<StepOutcome> {
    const { source, stages, settings, logdir, key } = this.options;
    const { points, previous } = this;
    const timer = new StageTimer();
    const stage = async <T>(name: Stage, work: () => Promise<T> | T): Promise<T> => {
      await hooks.onStage?.(name);
      return timer.time(name, work);
    };

    if (step.refused !== undefined) {
      await this.skip(step.step, step.refused);
      return { kind: 'skipped', reason: step.refused };
    }
    let loaded;
    try {
      loaded = await source.load(logdir, key, step, points, stage);
      this.checkModel(step, loaded.model);
    } catch (error) {
      // Only a step the user can replace is recorded; anything else is retried by the next start.
      if (!isUserError(error)) throw error;
      const reason = error.message.split('\n')[0]!.trim();
      await this.skip(step.step, reason);
      return { kind: 'skipped', reason };
    }

    const options = { seed: settings.seed, perplexity: settings.perplexity };
    // A user's own 2-D projection is drawn as given: only normalised (and aligned below).
    const projected = await stage('tsne', async () =>
      loaded.givenProjection && loaded.dim === 2
        ? { positions: normalizeFrame(Float64Array.from(loaded.embeddings)), klDivergence: 0 }
        : stages.project(loaded, points.count, previous?.positions ?? null, options),
    );
    const positions = await stage('align', () =>
      previous ? stages.align(projected.positions, previous.positions) : projected.positions,
    );
    const quality = await stage('measure', () =>
      stages.measure(loaded, points.count, positions, previous?.positions ?? null, points.labels, projected),
    );
    const pictures = await stage('render', () =>
      renderFrame({
        step: step.step,
        positions,
        points,
        accuracy: loaded.accuracy,
        measuredAccuracy: loaded.measuredAccuracy,
        previous,
        tweenCount: this.options.gifTween,
        givenProjection: loaded.givenProjection,
      }),
    );
    const record: FrameRecord = {
      step: step.step,
      accuracy: loaded.accuracy,
      ...quality,
      klDivergence: projected.klDivergence,
      // The computation; the writes that follow take milliseconds.
      frameSeconds: timer.elapsed(),
      time: new Date().toISOString(),
    };
    const frame: DrawnFrame = {
      ...pictures,
      step: step.step,
      record,
      positions,
      embeddings: loaded.embeddings,
      dim: loaded.dim,
      predictions: loaded.predictions,
    };

    await stage('write', async () => {
      for (const { spec, sink } of this.sinks) {
        await sink.write(frame, this.record);
        await hooks.onWritten?.(spec.point);
      }
      await this.commit({
        ...this.record,
        model: this.record.model ?? loaded.model,
        frames: [...this.record.frames, record],
      });
      await hooks.onWritten?.('state');
      for (const { spec, sink } of this.views) {
        await sink.write(frame, this.record);
        await hooks.onWritten?.(spec.point);
      }
    });
    this.previous = { step: step.step, positions };
    const report: FrameReport = {
      ...record,
      run: this.name,
      points: points.count,
      seconds: timer.result(),
      image: this.layout.imageFile(step.step),
    };
    return { kind: 'frame', report };
  }

  /** A chain is one model: a step of another architecture would make the animation meaningless. */
  private checkModel(step: StepRef, model: string | undefined): void {
    const chainModel = this.record.model;
    if (model === undefined || chainModel === undefined || model === chainModel) return;
    throw new UserError(
      `${step.where} is another model (${model}) than the chain's frames (${chainModel}): a chain is one model; ` +
        'train it into a run of its own',
    );
  }

  private async skip(step: number, reason: string): Promise<void> {
    const skip = { step, reason, time: new Date().toISOString() };
    await this.commit({ ...this.record, skipped: [...this.record.skipped, skip] });
    for (const { sink } of this.views) await sink.recordChanged?.(this.record);
  }

  /** state.json, written whole: the commit point. The record in memory changes only once it is on disk. */
  private async commit(next: RunState): Promise<void> {
    await writeState(this.layout.state, next);
    this.record = next;
  }

  /** Sinks closed, lock released. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      for (const { sink } of [...this.sinks, ...this.views]) await sink.close();
    } finally {
      await this.releaseLock();
    }
  }
}
