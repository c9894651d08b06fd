/**
 * One checkpoint → one frame: load, embed, t-SNE (warm-started from the previous frame), align,
 * render, write. The compute stages have no side effects; the writes are ordered so that a
 * watcher killed at any moment can simply redo the frame:
 *
 *   frames/step-N.tsv, images/step-N.png, projector files   overwritten whole (atomic renames)
 *   animation.gif                                            appended only if step N is not in it
 *   TensorBoard events                                       written only for tags below step N
 *   state.json                                               last: the commit point
 */
import { renderScatterFrame, tweenPositions, type GifWriter, type RgbaImage } from '../render/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { EventLog } from './events.ts';
import type { RunPaths } from './paths.ts';
import type { FrameReport, Stage } from './report.ts';
import type { FrameStages, ValidationSet } from './stages.ts';
import { frameToTsv, writeState, type ChainSettings, type FrameRecord, type RunState } from './state.ts';
import { StageTimer } from './timer.ts';

/** Where a frame's projector files go; see projector.ts. */
export interface ProjectorOutput {
  addStep(step: number, embeddings: Float32Array, dim: number, positions: Float64Array): Promise<void>;
}

export interface FrameContext {
  run: string;
  paths: RunPaths;
  validation: ValidationSet;
  stages: FrameStages;
  settings: ChainSettings;
  state: RunState;
  /** The previous frame's aligned positions; null for the first frame of the chain. */
  previous: Float64Array | null;
  events: EventLog;
  gif: GifWriter;
  projector: ProjectorOutput;
  /** The run's timelapse page (src/view/), rewritten after the state: see `TimelapsePage`. */
  page?: {
    update(
      frames: readonly FrameRecord[],
      latest: { step: number; positions: Float64Array; predictions?: Uint8Array },
    ): Promise<void>;
  };
  /** In-between GIF frames from the previous frame to this one (`--gif-tween`); 0 = none. */
  gifTween?: number;
  /** Called as each stage starts (tests use it to kill the watcher mid-frame). */
  onStage?: (stage: Stage) => void | Promise<void>;
  /** Called after each write of the write stage: 'files', 'projector', 'gif', 'events', 'state'. */
  onWritten?: (what: WritePoint) => void | Promise<void>;
}

export type WritePoint = 'files' | 'projector' | 'gif' | 'events' | 'state' | 'page';

export type FrameOutcome =
  { kind: 'frame'; report: FrameReport; positions: Float64Array } | { kind: 'skipped'; reason: string };

function formatStep(step: number): string {
  return step.toLocaleString('en-US');
}

/**
 * E.g. "step 3,200 · validation accuracy 34.6% · 1,000 test images". Checkpoints between two
 * validations carry no accuracy; then the accuracy of the checkpoint's own predictions on the
 * plotted images is shown, and said to be that.
 */
function caption(step: number, accuracy: number | null, fromCheckpoint: boolean, count: number): string {
  const images = `${count.toLocaleString('en-US')} test images`;
  const parts = [`step ${formatStep(step)}`];
  if (accuracy === null) parts.push(images);
  else if (fromCheckpoint) parts.push(`validation accuracy ${(100 * accuracy).toFixed(1)}%`, images);
  else parts.push(`accuracy ${(100 * accuracy).toFixed(1)}% on these ${images}`);
  return parts.join(' · ');
}

function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}

export async function processCheckpoint(
  ctx: FrameContext,
  checkpoint: { step: number; dir: string },
): Promise<FrameOutcome> {
  const { validation, stages, settings, previous } = ctx;
  const timer = new StageTimer();
  const stage = async <T>(name: Stage, work: () => Promise<T> | T): Promise<T> => {
    await ctx.onStage?.(name);
    return timer.time(name, work);
  };

  // A checkpoint that cannot be loaded or embedded is skipped; anything later is our problem.
  let loaded;
  let embedded;
  try {
    loaded = await stage('load', () => stages.load(checkpoint.dir));
    embedded = await stage('embed', () => stages.embed(validation));
    const expected = validation.count * embedded.dim;
    if (embedded.embeddings.length !== expected) {
      throw new Error(
        `the model gave ${embedded.embeddings.length} embedding values, expected ${validation.count} × ${embedded.dim}`,
      );
    }
    if (!embedded.embeddings.every(Number.isFinite)) {
      throw new Error(
        'the model gave non-finite embeddings (NaN or Infinity): the weights are damaged or training diverged',
      );
    }
  } catch (error) {
    return { kind: 'skipped', reason: errorLine(error) };
  }

  const projected = await stage('tsne', () =>
    stages.project(embedded, validation.count, previous, { seed: settings.seed, perplexity: settings.perplexity }),
  );
  const { positions, quality } = await stage('align', () => {
    const aligned = previous ? stages.align(projected.positions, previous) : projected.positions;
    return {
      positions: aligned,
      quality: stages.measure(embedded, validation.count, aligned, previous, validation.labels, projected),
    };
  });

  const fromCheckpoint = loaded.validationAccuracy !== undefined;
  const accuracy = loaded.validationAccuracy ?? embedded.subsetAccuracy ?? null;
  const scatter = (points: Float64Array, title: string) =>
    renderScatterFrame({
      points,
      labels: validation.labels,
      classNames: validation.classNames,
      title: `t-SNE embedding projection · ${title}`,
      caption: caption(checkpoint.step, accuracy, fromCheckpoint, validation.count),
    });
  const { picture, tweens } = await stage('render', async () => {
    const tweens: RgbaImage[] = [];
    const tweenCount = previous ? (ctx.gifTween ?? 0) : 0;
    const previousStep = ctx.state.frames.at(-1)?.step;
    const from = previousStep === undefined ? '' : `${formatStep(previousStep)} → `;
    const between = `step ${from}${formatStep(checkpoint.step)}`;
    for (let k = 1; k <= tweenCount; k++) {
      tweens.push((await scatter(tweenPositions(previous!, positions, k, tweenCount), between)).image);
    }
    return { picture: await scatter(positions, `step ${formatStep(checkpoint.step)}`), tweens };
  });

  const record = await stage('write', async () => {
    const { paths } = ctx;
    const written = async (what: WritePoint) => ctx.onWritten?.(what);
    await writeFileAtomic(paths.frameFile(checkpoint.step), frameToTsv(positions));
    await writeFileAtomic(paths.imageFile(checkpoint.step), picture.png);
    await written('files');
    await ctx.projector.addStep(checkpoint.step, embedded.embeddings, embedded.dim, positions);
    await written('projector');
    await ctx.gif.append(picture.image, checkpoint.step, tweens);
    await written('gif');
    const frame: FrameRecord = {
      step: checkpoint.step,
      accuracy,
      ...quality,
      klDivergence: projected.klDivergence,
      // Everything but the final event and state writes, which take milliseconds.
      frameSeconds: timer.elapsed(),
      time: new Date().toISOString(),
    };
    ctx.events.writeFrame(frame, picture.png);
    await written('events');
    ctx.state.frames.push(frame);
    await writeState(paths.state, ctx.state);
    await written('state');
    await ctx.page?.update(ctx.state.frames, { step: checkpoint.step, positions, predictions: embedded.predictions });
    await written('page');
    return frame;
  });

  const report: FrameReport = {
    run: ctx.run,
    step: checkpoint.step,
    points: validation.count,
    seconds: timer.result(),
    knnPreservation: record.knnPreservation,
    neighborhoodHit: record.neighborhoodHit,
    displacement: record.displacement,
    klDivergence: record.klDivergence,
    accuracy,
    image: ctx.paths.imageFile(checkpoint.step),
  };
  return { kind: 'frame', report, positions };
}
