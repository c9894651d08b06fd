/**
 * The first source: our trainer's checkpoints. A run with a `checkpoints/` folder is one chain
 * (no tag; its outputs go to `<run>/embeddings/`); its steps are the complete checkpoints; a step's
 * embeddings are the model's forward pass over a fixed subset of CIFAR-10 test images, the same
 * subset for every run of the watcher.
 */
import { join } from 'node:path';
import { UserError } from '../../errors.ts';
import { SPRITE_TILE } from '../../layout.ts';
import { checkpointDirName } from '../../model/checkpoint/format.ts';
import { readCheckpointMeta } from '../../model/checkpoint/validate.ts';
import type { ModelOptions } from '../../model/resnet.ts';
import type { CheckpointModel, ValidationSet } from '../stages.ts';
import type { ChainKey, LoadedStep, PointSet, Source, StepRef } from '../source.ts';
import { listRunCheckpoints, listRunsWithCheckpoints, watchForCheckpoints } from './checkpoint-discovery.ts';

export interface CheckpointSourceOptions {
  /** Test images per frame (`--val-size`) and the seed that picks them. */
  valSize: number;
  seed: number;
  /** Where the one line about the chosen subset goes. */
  log: (line: string, fields?: Record<string, unknown>) => void;
  /** A run's checkpoints known to be unusable, listed as refused steps (`StepRef.refused`). */
  refused?: (run: string) => ReadonlyMap<number, string>;
}

/** What a checkpoint's model is, in one line: a chain is one model. */
export function describeModel(model: Partial<ModelOptions> | undefined): string {
  if (model === undefined) return 'unknown';
  const list = (values: unknown) => (Array.isArray(values) ? values.join(',') : String(values));
  return (
    `blocks ${list(model.blocks)} · widths ${list(model.widths)} · stem ${model.stemChannels} · ` +
    `embedding ${model.embeddingSize} · classes ${model.numClasses}`
  );
}

/** The first line of an error, for a skip's reason. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}

export function checkpointSource(model: CheckpointModel, options: CheckpointSourceOptions): Source {
  let validation: Promise<ValidationSet> | null = null;

  const subset = (): Promise<ValidationSet> => {
    validation ??= model.validation(options.valSize, options.seed).then((set) => {
      options.log(`validation subset: ${set.count} test images, ${set.classNames.length} classes`, {
        points: set.count,
      });
      return set;
    });
    // A failed load (a wrong --data) is tried again by the next chain, not remembered.
    validation.catch(() => (validation = null));
    return validation;
  };

  return {
    name: 'checkpoints',

    async listChains(logdir, run) {
      return (await listRunsWithCheckpoints(logdir, run)).map((name): ChainKey => ({ run: name }));
    },

    async listSteps(logdir, chain) {
      const steps = (await listRunCheckpoints(logdir, chain.run)).map(({ step, dir }): StepRef => ({
        step,
        where: dir,
      }));
      const present = new Set(steps.map((ref) => ref.step));
      for (const [step, reason] of options.refused?.(chain.run) ?? []) {
        if (!present.has(step))
          steps.push({
            step,
            where: join(checkpointsWhere(logdir, chain.run), checkpointDirName(step)),
            refused: reason,
          });
      }
      return steps.sort((a, b) => a.step - b.step);
    },

    async points(): Promise<PointSet> {
      return { ...(await subset()), tile: SPRITE_TILE };
    },

    async load(_logdir, _chain, step, _points, stage): Promise<LoadedStep> {
      const set = await subset();
      const dir = step.where;
      const cannot = (why: string) => new UserError(`${dir} cannot be used: ${why}`);
      let meta;
      let info;
      let embedded;
      try {
        meta = await readCheckpointMeta(dir);
        info = await stage('load', () => model.load(dir));
        embedded = await stage('embed', () => model.embed(set));
      } catch (error) {
        // Only a checkpoint the user can replace is a skip; anything else is ours to fix.
        if (error instanceof UserError) throw cannot(firstLine(error));
        throw error;
      }
      const expected = set.count * embedded.dim;
      if (embedded.embeddings.length !== expected) {
        throw cannot(
          `the model gave ${embedded.embeddings.length} embedding values, expected ${set.count} × ${embedded.dim}`,
        );
      }
      if (!embedded.embeddings.every(Number.isFinite)) {
        throw cannot(
          'the model gave non-finite embeddings (NaN or Infinity): the weights are damaged or training diverged',
        );
      }
      const measured = info.validationAccuracy !== undefined;
      return {
        embeddings: embedded.embeddings,
        dim: embedded.dim,
        accuracy: info.validationAccuracy ?? embedded.subsetAccuracy ?? null,
        measuredAccuracy: measured,
        model: describeModel(meta.model),
        predictions: embedded.predictions,
      };
    },

    watch(logdir, onChange, run) {
      return watchForCheckpoints(logdir, onChange, run);
    },

    dispose: () => model.dispose(),
  };
}

/** The folder of a run's checkpoints, for messages. */
export function checkpointsWhere(logdir: string, run?: string): string {
  return run === undefined ? `${logdir}/*/checkpoints/` : `${join(logdir, run)}/checkpoints/`;
}
