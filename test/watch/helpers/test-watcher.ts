/** A temporary log directory and an in-process watcher with the fake stages, collecting its lines. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watcher, type WatcherOptions } from '../../../src/watch/daemon.ts';
import { textReporter } from '../../../src/watch/report.ts';
import { fakeStages } from './fake-stages.ts';

export async function tempLogdir(t: { after(fn: () => Promise<void>): void }, prefix = 'watch-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'logs');
}

/** A `--once` watcher of `valSize` points unless `extra` says otherwise; `lines` on stdout, `errors` on stderr. */
export function testWatcher(logdir: string, valSize: number, extra: Partial<WatcherOptions> = {}) {
  const lines: string[] = [];
  const errors: string[] = [];
  const w = new Watcher({
    logdir,
    once: true,
    settings: { valSize, seed: 0, perplexity: 30 },
    stages: fakeStages(),
    reporter: textReporter(
      (line) => lines.push(line),
      (line) => errors.push(line),
    ),
    ...extra,
  });
  return { w, lines, errors };
}
