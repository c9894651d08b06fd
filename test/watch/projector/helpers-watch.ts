/** A watcher with the fake projection stages and the projector source, and readers of a chain's outputs. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Watcher, type WatcherOptions } from '../../../src/watch/daemon.ts';
import { textReporter } from '../../../src/watch/report.ts';
import { GifWriter } from '../../../src/render/index.ts';
import { readRunEvents } from '../../../src/tensorboard/index.ts';
import { projectorSource } from '../../../src/watch/sources/projector.ts';
import { readWrittenChunks } from '../../../src/view/chunks.ts';
import type { PageHeader } from '../../../src/view/encode.ts';
import { pageHeaderOf } from '../../../src/view/page.ts';
import { fakeStages, type FakeStageLog } from '../helpers/fake-stages.ts';

export function projectorWatcher(
  logdir: string,
  extra: Partial<WatcherOptions> & { settleSeconds?: number; colorBy?: string; valSize?: number } = {},
) {
  const log: FakeStageLog = { loaded: [], inits: [] };
  const lines: string[] = [];
  const errors: string[] = [];
  const reporter = textReporter(
    (line) => lines.push(line),
    (line) => errors.push(line),
  );
  const watcher = new Watcher({
    logdir,
    once: true,
    settings: { valSize: extra.valSize ?? 200, seed: 0, perplexity: 30 },
    stages: fakeStages(log),
    reporter,
    gifTween: 0,
    moreSources: () => [
      projectorSource({
        settleSeconds: extra.settleSeconds ?? 0,
        colorBy: extra.colorBy,
        log: (line) => lines.push(line),
      }),
    ],
    ...extra,
  });
  return { watcher, log, lines, errors };
}

export function chainDir(runDir: string, tag: string): string {
  return join(runDir, 'timelapse', tag);
}

export async function chainState(dir: string) {
  return JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as {
    frames: { step: number }[];
    skipped: { step: number; reason: string }[];
  };
}

export async function chainGifSteps(dir: string): Promise<number[]> {
  return new GifWriter(join(dir, 'images', 'animation.gif')).steps();
}

/** Steps of each `embeddings/` tag in the chain's event files. */
export async function chainEventSteps(dir: string): Promise<Map<string, number[]>> {
  const steps = new Map<string, number[]>();
  for (const event of await readRunEvents(dir)) {
    for (const value of event.summary?.value ?? []) {
      if (!value.tag?.startsWith('embeddings/')) continue;
      steps.set(value.tag, [...(steps.get(value.tag) ?? []), event.step]);
    }
  }
  return steps;
}

/** The page's header block, the steps of its frame chunks and its colours. */
export async function pageData(dir: string) {
  const html = await readFile(join(dir, 'timelapse.html'), 'utf8');
  const header = pageHeaderOf(html)!;
  const chunks = (await readWrittenChunks(join(dir, 'page'), header.chain!)) ?? [];
  const colors = /<script id="timelapse-colors" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!;
  return {
    ...(header as Required<Pick<PageHeader, 'classNames' | 'sprite' | 'count'>> & PageHeader),
    steps: chunks.flatMap((chunk) => chunk.steps),
    colorList: JSON.parse(colors) as string[],
  };
}
