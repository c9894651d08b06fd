/** Finding runs on disk: which run `--resume` without `--run` continues. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKPOINT_JSON, latestCheckpoint } from '../model/checkpoint.ts';
import { checkpointsDir } from '../layout.ts';

/**
 * A run name from the current time in UTC, e.g. `20261126-101500`: names sort chronologically
 * whatever the machine's time zone or daylight saving time. `train` and `demo` both use it.
 */
export function timestampRunName(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** The run under `logdir` whose newest checkpoint was written last, or undefined. */
export async function newestRunWithCheckpoints(logdir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(logdir);
  } catch {
    return undefined;
  }
  let best: { run: string; time: number } | undefined;
  for (const run of names) {
    if (run.startsWith('.')) continue;
    const latest = await latestCheckpoint(checkpointsDir(join(logdir, run))).catch(() => undefined);
    if (!latest) continue;
    const time = (await stat(join(latest.dir, CHECKPOINT_JSON))).mtimeMs;
    if (!best || time > best.time) best = { run, time };
  }
  return best?.run;
}
