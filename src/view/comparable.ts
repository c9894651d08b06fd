/**
 * Which runs of a log directory can be compared side by side: those whose pages show the same
 * points (the same count, labels and test images, as their page headers say). `view` links each
 * run's page to the others, with `#compare=` naming the other run's embeddings folder.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PAGE_FILE } from '../layout.ts';

/** The key of the points a run's page shows, or null without a readable page. */
async function pointsKey(logdir: string, run: string): Promise<string | null> {
  const html = await readFile(join(logdir, run, 'embeddings', PAGE_FILE), 'utf8').catch(() => null);
  const match = html && /<script id="timelapse-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  if (!match) return null;
  try {
    const header = JSON.parse(match[1]!) as { count?: unknown; labels?: unknown; testIndices?: unknown };
    return `${String(header.count)}:${String(header.labels)}:${String(header.testIndices)}`;
  } catch {
    return null;
  }
}

/** For each run with a page: the other runs that show the same points (sorted). */
export async function comparableRuns(logdir: string, runs: readonly string[]): Promise<Map<string, string[]>> {
  const keys = new Map<string, string>();
  for (const run of runs) {
    const key = await pointsKey(logdir, run);
    if (key !== null) keys.set(run, key);
  }
  const out = new Map<string, string[]>();
  for (const [run, key] of keys) {
    out.set(
      run,
      [...keys]
        .filter(([other, otherKey]) => other !== run && otherKey === key)
        .map(([other]) => other)
        .sort(),
    );
  }
  return out;
}

/** The link that opens `run`'s page with `other` beside it. */
export function compareUrl(run: string, other: string): string {
  const path = `../../${encodeURIComponent(other)}/embeddings`;
  return `/${encodeURIComponent(run)}/embeddings/${PAGE_FILE}#compare=${encodeURIComponent(path)}`;
}
