/** Reading back what the watcher wrote for a run, for the tests' checks. */
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listEventFiles, parseProjectorConfig, readEventFile, readRunEvents } from '../../../src/tensorboard/index.ts';
import { GifWriter } from '../../../src/render/index.ts';

/**
 * The watcher's events, oldest first: those of the layout before `<run>/embeddings/` (files
 * ending `.watcher` in the run directory), then those in `<run>/embeddings/`.
 */
export async function watcherEvents(runDir: string) {
  const earlier = (await listEventFiles(runDir)).filter((file) => file.endsWith('.watcher'));
  const events = [];
  for (const file of earlier) events.push(...(await readEventFile(file)));
  events.push(...(await readRunEvents(join(runDir, 'embeddings'))));
  return events;
}

/** Steps per tag, in file order, for every `embeddings/` tag of the watcher's event files. */
export async function stepsByTag(runDir: string): Promise<Map<string, number[]>> {
  const steps = new Map<string, number[]>();
  for (const event of await watcherEvents(runDir)) {
    for (const value of event.summary?.value ?? []) {
      const tag = value.tag ?? '';
      if (!tag.startsWith('embeddings/')) continue;
      if (!steps.has(tag)) steps.set(tag, []);
      steps.get(tag)!.push(event.step);
    }
  }
  return steps;
}

export const WATCHER_TAGS = [
  'embeddings/tsne',
  'embeddings/knn_preservation',
  'embeddings/neighborhood_hit',
  'embeddings/displacement',
  'embeddings/kl_divergence',
  'embeddings/frame_seconds',
];

export async function gifSteps(runDir: string): Promise<number[]> {
  return new GifWriter(join(runDir, 'embeddings', 'images', 'animation.gif')).steps();
}

export async function stateOf(runDir: string) {
  return JSON.parse(await readFile(join(runDir, 'embeddings', 'state.json'), 'utf8')) as {
    frames: { step: number }[];
    skipped: { step: number; reason: string }[];
  };
}

/** Each projector entry with the row and column counts of its tensor and metadata files. */
export async function projectorEntries(runDir: string) {
  const config = parseProjectorConfig(await readFile(join(runDir, 'projector_config.pbtxt'), 'utf8'));
  const entries = [];
  for (const entry of config.embeddings ?? []) {
    const tensor = (await readFile(join(runDir, entry.tensor_path!), 'utf8')).trimEnd().split('\n');
    const metadata = (await readFile(join(runDir, entry.metadata_path!), 'utf8')).trimEnd().split('\n');
    const sprite = await readFile(join(runDir, entry.sprite!.image_path!));
    entries.push({
      name: entry.tensor_name!,
      shape: entry.tensor_shape!,
      rows: tensor.length,
      columns: tensor[0]!.split('\t').length,
      metadataRows: metadata.length - 1, // header row
      metadataHeader: metadata[0]!,
      spriteBytes: sprite.length,
      tileDims: entry.sprite!.single_image_dim!,
    });
  }
  return entries;
}

/** Every frame once in state.json, in the event files and in the GIF, and each frame's PNG and TSV present. */
export async function assertFramesEverywhere(runDir: string, steps: number[]) {
  const state = await stateOf(runDir);
  assert.deepEqual(
    state.frames.map((f) => f.step),
    steps,
    'state frames',
  );
  const tags = await stepsByTag(runDir);
  for (const tag of WATCHER_TAGS) assert.deepEqual(tags.get(tag) ?? [], steps, `event steps of ${tag}`);
  assert.deepEqual(await gifSteps(runDir), steps, 'GIF frames');
  for (const step of steps) {
    const label = String(step).padStart(9, '0');
    await access(join(runDir, 'embeddings', 'images', `step-${label}.png`));
    await access(join(runDir, 'embeddings', 'frames', `step-${label}.tsv`));
  }
}
