/**
 * The second source: the embeddings any trainer logs for TensorBoard's projector (PyTorch's and
 * tensorboardX's `add_embedding`, a TensorFlow user's own `projector_config.pbtxt`). A chain is
 * one (run, tag) (sources/projector/discover.ts); its outputs go to `<run>/timelapse/<tag>/`,
 * which TensorBoard lists as a run of its own; the user's files are only read
 * (sources/projector/run-file.ts), never written.
 *
 * `listSteps` gives the steps that look complete from their file sizes and times alone (listed in
 * the config, or settled); `load` reads the step and applies the whole completeness rule
 * (sources/projector/read-step.ts): a step still being written is a `TransientError` (tried
 * again later), an unusable one a `UserError` (a recorded skip, the chain goes on).
 */
import { join, relative, sep } from 'node:path';
import { watch } from 'chokidar';
import { TransientError, UserError } from '../../errors.ts';
import type { ChainKey, LoadedStep, PointSet, Source, StepRef } from '../source.ts';
import { discoverRunChains, listProjectorRuns, type ProjectorChainRef, type StepFiles } from './projector/discover.ts';
import { chainPoints, type ChainPoints } from './projector/points.ts';
import { SettleClock, readStep, stepSettled } from './projector/read-step.ts';

export interface ProjectorSourceOptions {
  /** `--color-by COLUMN`: the metadata column that colours the points. */
  colorBy?: string;
  /** How long an unlisted step's files must stay unchanged to count as complete (default 10 s). */
  settleSeconds?: number;
  log: (line: string, fields?: Record<string, unknown>) => void;
}

/** Whether the step looks complete without reading it: listed, or its files settled. */
async function looksComplete(step: StepFiles, settleMs: number, clock: SettleClock): Promise<boolean> {
  return step.listed || ((await stepSettled(step, settleMs, clock, Date.now()))?.settled ?? false);
}

export function projectorSource(options: ProjectorSourceOptions): Source {
  const settleMs = 1000 * (options.settleSeconds ?? 10);
  const clock = new SettleClock();
  const reported = new Set<string>();
  /** A chain's points, kept while the step they came from is the chain's first. */
  const pointsCache = new Map<string, { from: string; points: ChainPoints }>();

  async function chainOf(logdir: string, key: ChainKey): Promise<ProjectorChainRef | undefined> {
    const { chains, configProblem } = await discoverRunChains(join(logdir, key.run));
    if (configProblem !== undefined && !reported.has(configProblem)) {
      reported.add(configProblem);
      options.log(`${key.run}: projector config not usable now (${configProblem}); its step folders still count`);
    }
    return chains.find((chain) => chain.tag === key.tag);
  }

  /**
   * The complete steps up to the first one that is not: frames go in step order, so a step still
   * settling holds back the complete ones after it. Otherwise the older step folders of a run
   * copied a moment ago (fresh file times, and a restarted writer's config lists only its own
   * steps) would be passed by the listed later steps, and then skipped for good as too late.
   */
  async function completeSteps(logdir: string, key: ChainKey): Promise<StepFiles[]> {
    const steps = (await chainOf(logdir, key))?.steps ?? [];
    const out: StepFiles[] = [];
    for (const [k, step] of steps.entries()) {
      if (await looksComplete(step, settleMs, clock)) {
        out.push(step);
        continue;
      }
      const waiting = steps.length - k - 1;
      const settle = settleMs / 1000;
      const unsettled = `step ${step.step} is not settled yet (its files changed less than --settle ${settle} s ago)`;
      const after = `the ${waiting} step${waiting === 1 ? '' : 's'} after it wait for it, so that frames stay in order`;
      const note = `${key.run} [${key.tag}]: ${unsettled}; ${after}`;
      if (waiting > 0 && !reported.has(note)) {
        reported.add(note);
        options.log(note);
      }
      break;
    }
    return out;
  }

  return {
    name: 'projector',

    async listChains(logdir, run) {
      const keys: ChainKey[] = [];
      for (const name of await listProjectorRuns(logdir, run)) {
        const { chains } = await discoverRunChains(join(logdir, name));
        for (const chain of chains) if (chain.steps.length > 0) keys.push({ run: name, tag: chain.tag });
      }
      return keys;
    },

    async listSteps(logdir, key): Promise<StepRef[]> {
      return (await completeSteps(logdir, key)).map((step) => ({ step: step.step, where: step.tensorPath }));
    },

    async points(logdir, key): Promise<PointSet> {
      const steps = await completeSteps(logdir, key);
      const first = steps.find((step) => step.metadataPath !== undefined) ?? steps[0];
      if (first === undefined) throw new TransientError(`${key.run} [${key.tag}]: no complete step yet`);
      const cacheKey = `${key.run}\0${key.tag}`;
      const cached = pointsCache.get(cacheKey);
      if (cached?.from === first.tensorPath) return cached.points;
      const points = await chainPoints(join(logdir, key.run), first, options.colorBy);
      pointsCache.set(cacheKey, { from: first.tensorPath, points });
      options.log(`${key.run} [${key.tag}]: ${points.count} points, ${points.note}`, { points: points.count });
      return points;
    },

    async load(logdir, key, ref, points, stage): Promise<LoadedStep> {
      const runDir = join(logdir, key.run);
      const shown = relative(logdir, ref.where).split(sep).join('/');
      return stage('load', async () => {
        const step = (await chainOf(logdir, key))?.steps.find((s) => s.tensorPath === ref.where);
        if (step === undefined) throw new TransientError(`${shown} is gone`);
        const reading = await readStep(step, { runDir, settleMs, clock });
        if (reading.kind === 'wait') throw new TransientError(`${shown} is not complete yet: ${reading.why}`);
        if (reading.kind === 'skip') throw new UserError(`${shown} cannot be used: ${reading.reason}`);
        const { data } = reading;
        if (data.count !== points.count) {
          throw new UserError(
            `step ${data.step} (${shown}) has ${data.count} points but the chain has ${points.count}; a chain's ` +
              'steps must log the same points in the same order',
          );
        }
        if (!data.points.every(Number.isFinite)) {
          throw new UserError(`${shown} cannot be used: it holds NaN or infinite values (did training diverge?)`);
        }
        return {
          embeddings: data.points,
          dim: data.dim,
          accuracy: null,
          measuredAccuracy: false,
          givenProjection: data.givenProjection,
        };
      });
    },

    watch(logdir, onChange, run) {
      // Events only say "look again now"; the poll catches anything they miss.
      const watcher = watch(logdir, {
        ignoreInitial: true,
        depth: 3,
        ignored: (path: string) => {
          const parts = relative(logdir, path).split(sep);
          if (run !== undefined && parts[0] !== '' && parts[0] !== run) return true;
          return (
            parts.some((part) => part.startsWith('.')) ||
            ['timelapse', 'embeddings', 'checkpoints'].includes(parts[1] ?? '')
          );
        },
      });
      watcher.on('add', onChange);
      watcher.on('change', onChange);
      watcher.on('addDir', onChange);
      watcher.on('error', () => onChange());
      return { close: () => watcher.close() };
    },

    async dispose() {
      pointsCache.clear();
    },
  };
}
