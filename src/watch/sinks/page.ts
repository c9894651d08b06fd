/**
 * The chain's player page (src/view/), a view of the committed record: brought up to it after
 * every commit, so it is the one output written after state.json. A watcher killed between the
 * two leaves the page behind the record (its index older than state.json); `behind` sees that
 * without opening the chain, and opening the chain brings the page up to date.
 */
import { stat } from 'node:fs/promises';
import type { ChainLayout } from '../../layout.ts';
import { TimelapsePage } from '../../view/page.ts';
import { PAGE_CHARTS } from '../record.ts';
import type { RunState } from '../state.ts';
import type { SinkSpec } from './sink.ts';

async function modified(path: string): Promise<number | null> {
  return stat(path).then(
    (info) => info.mtimeMs,
    () => null,
  );
}

async function pageBehind(layout: ChainLayout, record: Readonly<RunState>): Promise<boolean> {
  if (record.frames.length === 0) return false;
  const [page, state] = await Promise.all([modified(layout.pageIndex), modified(layout.state)]);
  return page === null || (state !== null && page < state);
}

export const pageSink: SinkSpec = {
  point: 'page',
  behind: pageBehind,
  async open({ name, layout, points, record }) {
    const page = new TimelapsePage({
      run: name,
      embeddingsDir: layout.embeddings,
      points,
      frameFile: layout.frameFile,
      measures: PAGE_CHARTS,
      spriteFromPage: layout.spriteFromPage,
      metadata: points.columns,
    });
    if (await pageBehind(layout, record)) await page.update(record.frames);
    return {
      async write(frame, committed) {
        const latest = { step: frame.step, positions: frame.positions, predictions: frame.predictions };
        await page.update(committed.frames, latest);
      },
      async recordChanged(committed) {
        if (committed.frames.length > 0) await page.update(committed.frames);
      },
      async close() {},
    };
  },
};
