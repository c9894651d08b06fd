/**
 * Finding the embeddings a user's writer logged for TensorBoard's projector. A chain is one
 * (run directory, tag); its steps come from two places, merged:
 *
 * - the run's `projector_config.pbtxt`: PyTorch and tensorboardX name an entry `<tag>:<step>`
 *   (step zero-padded to 5); a TensorFlow user names entries as they like, with a `tensor_path`
 *   of any name: then the last number in the name is the step (the rest, trimmed, the tag), else
 *   the last number in the path, else the entry is one chain of one frame (step 0);
 * - the step folders on disk, `<run>/<step>/<tag>/tensors.tsv`: a restarted PyTorch writer
 *   rewrites the config with only its own entries, so the earlier steps are only there. The tag
 *   of a folder is percent-decoded (PyTorch writes `a/b` as `a%2fb`).
 *
 * The entries this project writes itself (`embedding:step-N`, `tsne:step-N`, files under our
 * `embeddings/` folder) are never input.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../../../errors.ts';
import { OWN_CHAIN_DIR, TAG_CHAINS_DIR } from '../../../layout.ts';
import { PROJECTOR_CONFIG_FILE } from '../../../tensorboard/event-reader.ts';
import { parseProjectorConfig } from '../../../tensorboard/projector.ts';
import type { EmbeddingInfo } from '../../../tensorboard/protos.ts';
import { isMissingFile, readRunFile } from './run-file.ts';

export const TENSORS_FILE = 'tensors.tsv';
export const METADATA_FILE = 'metadata.tsv';
export const SPRITE_FILE = 'sprite.png';
/** A projector config is small; anything larger than this is not one. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** The folders under a run where this project writes its own outputs (layout.ts). */
const OWN_FOLDERS = [OWN_CHAIN_DIR, TAG_CHAINS_DIR];

/** One step of a chain: where its files are. */
export interface StepFiles {
  step: number;
  /** Absolute paths. */
  tensorPath: string;
  tensorShape?: number[];
  metadataPath?: string;
  spritePath?: string;
  /** `single_image_dim`: [width, height] of one sprite tile. */
  tileSize?: number[];
  /** Whether a projector config that parsed whole lists this step (see complete.ts). */
  listed: boolean;
}

export interface ProjectorChainRef {
  runDir: string;
  tag: string;
  /** By step, one per step. */
  steps: StepFiles[];
}

export interface RunDiscovery {
  chains: ProjectorChainRef[];
  /** Why the config could not be used this time (e.g. caught mid-write); its folders still count. */
  configProblem?: string;
}

const OWN_NAME = /(?:^|[/:])(?:embedding|tsne):step-\d+$/;

/** Whether `entry` is one of the projector entries this project writes itself. */
export function isOwnEntry(entry: EmbeddingInfo): boolean {
  const path = (entry.tensor_path ?? '').replace(/\\/g, '/').replace(/^\.\//, '');
  return OWN_NAME.test(entry.tensor_name ?? '') || OWN_FOLDERS.some((folder) => path.startsWith(`${folder}/`));
}

/** PyTorch's folder name of a tag back to the tag: `%2f` → `/`, `%25` → `%`, `%5c` → `\`. */
export function decodeTag(folder: string): string {
  try {
    return decodeURIComponent(folder);
  } catch {
    return folder.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

/** The last run of digits in `text`, with what is around it. */
function lastNumber(text: string): { value: number; before: string; after: string } | undefined {
  const match = /(\d+)(?!.*\d)/.exec(text);
  if (!match) return undefined;
  return {
    value: Number(match[1]),
    before: text.slice(0, match.index),
    after: text.slice(match.index + match[1]!.length),
  };
}

/** (tag, step) of a config entry; see the module comment. */
export function entryTagAndStep(entry: EmbeddingInfo): { tag: string; step: number } {
  const name = entry.tensor_name ?? '';
  const pytorch = /^(.*):(\d+)$/.exec(name);
  if (pytorch) return { tag: pytorch[1]!, step: Number(pytorch[2]) };
  const inName = lastNumber(name);
  if (inName) {
    const tag = (inName.before + inName.after).replace(/[\s:_\-./]+$/, '').replace(/^[\s:_\-./]+/, '');
    return { tag: tag === '' ? name : tag, step: inName.value };
  }
  const inPath = lastNumber((entry.tensor_path ?? '').replace(/\.[A-Za-z]+$/, ''));
  return { tag: name, step: inPath?.value ?? 0 };
}

async function isFile(path: string): Promise<boolean> {
  try {
    const stats = await lstat(path);
    return stats.isFile() || stats.isSymbolicLink();
  } catch {
    return false;
  }
}

async function listDir(path: string) {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Steps from the config, or the reason it could not be read now. */
async function configSteps(
  runDir: string,
): Promise<{ steps: Map<string, StepFiles & { tag: string }>; problem?: string }> {
  const steps = new Map<string, StepFiles & { tag: string }>();
  const path = join(runDir, PROJECTOR_CONFIG_FILE);
  let text: string;
  try {
    text = (await readRunFile(runDir, path, MAX_CONFIG_BYTES)).toString('utf8');
  } catch (error) {
    if (isMissingFile(error)) return { steps };
    return { steps, problem: (error as Error).message };
  }
  let entries: EmbeddingInfo[];
  try {
    entries = parseProjectorConfig(text, path).embeddings ?? [];
  } catch (error) {
    if (error instanceof UserError) return { steps, problem: error.message };
    throw error;
  }
  for (const entry of entries) {
    if (!entry.tensor_path || isOwnEntry(entry)) continue;
    const { tag, step } = entryTagAndStep(entry);
    const key = `${tag}\0${step}`;
    if (steps.has(key)) continue;
    // Relative to the run, as TensorBoard resolves them; an absolute path is refused when read.
    const tensorPath = resolve(runDir, entry.tensor_path);
    if (!(await isFile(tensorPath))) continue;
    steps.set(key, {
      tag,
      step,
      tensorPath,
      tensorShape: entry.tensor_shape?.length ? entry.tensor_shape : undefined,
      metadataPath: entry.metadata_path ? resolve(runDir, entry.metadata_path) : undefined,
      spritePath: entry.sprite?.image_path ? resolve(runDir, entry.sprite.image_path) : undefined,
      tileSize: entry.sprite?.single_image_dim?.length === 2 ? entry.sprite.single_image_dim : undefined,
      listed: true,
    });
  }
  return { steps };
}

/** Steps from `<run>/<step>/<tag>/tensors.tsv` folders. */
async function folderSteps(runDir: string): Promise<(StepFiles & { tag: string })[]> {
  const steps: (StepFiles & { tag: string })[] = [];
  for (const stepDir of await listDir(runDir)) {
    if (!stepDir.isDirectory() || !/^\d+$/.test(stepDir.name)) continue;
    for (const tagDir of await listDir(join(runDir, stepDir.name))) {
      if (!tagDir.isDirectory()) continue;
      const dir = join(runDir, stepDir.name, tagDir.name);
      const files = new Set((await listDir(dir)).map((f) => f.name));
      if (!files.has(TENSORS_FILE)) continue;
      steps.push({
        tag: decodeTag(tagDir.name),
        step: Number(stepDir.name),
        tensorPath: join(dir, TENSORS_FILE),
        metadataPath: files.has(METADATA_FILE) ? join(dir, METADATA_FILE) : undefined,
        spritePath: files.has(SPRITE_FILE) ? join(dir, SPRITE_FILE) : undefined,
        listed: false,
      });
    }
  }
  return steps;
}

/** The chains of one run directory, each with its steps in order. */
export async function discoverRunChains(runDir: string): Promise<RunDiscovery> {
  const { steps, problem } = await configSteps(runDir);
  for (const found of await folderSteps(runDir)) {
    const key = `${found.tag}\0${found.step}`;
    if (!steps.has(key)) steps.set(key, found);
  }
  const byTag = new Map<string, StepFiles[]>();
  const tileSizes = new Map<string, number[]>();
  for (const { tag, ...step } of steps.values()) {
    (byTag.get(tag) ?? byTag.set(tag, []).get(tag)!).push(step);
    if (step.tileSize && !tileSizes.has(tag)) tileSizes.set(tag, step.tileSize);
  }
  const chains: ProjectorChainRef[] = [];
  for (const [tag, list] of [...byTag].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // A folder-only step of a restarted writer has the same tiles as the steps its config lists.
    for (const step of list) if (step.spritePath && !step.tileSize) step.tileSize = tileSizes.get(tag);
    chains.push({ runDir, tag, steps: list.sort((a, b) => a.step - b.step) });
  }
  return { chains, configProblem: problem };
}

/** Runs under `logdir` (its direct subfolders) with a projector config or step folders. */
export async function listProjectorRuns(logdir: string, only?: string): Promise<string[]> {
  const runs: string[] = [];
  for (const entry of await listDir(logdir)) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (only !== undefined && entry.name !== only) continue;
    const runDir = join(logdir, entry.name);
    const names = (await listDir(runDir)).map((e) => e.name);
    if (names.includes(PROJECTOR_CONFIG_FILE) || names.some((n) => /^\d+$/.test(n))) runs.push(entry.name);
  }
  return runs.sort();
}
