/**
 * Which chains of a log directory can be compared side by side: those whose pages show the same
 * points (the same count, labels and test images, as their page headers say). `view` links each
 * chain's page to the others, with `#compare=` naming the other chain's folder. A chain is named
 * by its folder relative to the log directory, `/`-separated (`run/embeddings`).
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PAGE_FILE } from '../layout.ts';
import { pageHeaderOf } from './page.ts';

/** The page of the chain in `dir`, as a URL path. */
export function pageUrl(dir: string): string {
  return `/${dir.split('/').map(encodeURIComponent).join('/')}/${PAGE_FILE}`;
}

/**
 * The key of the points the page of chain `dir` shows (equal keys: the same points), or null
 * when it has no readable page.
 */
export type PointsKeyReader = (dir: string) => Promise<string | null>;

/** The key of the points a page's HTML shows (count, labels, test images), or null without a header. */
export function pointsKeyOf(html: string | null): string | null {
  const header = html === null ? null : pageHeaderOf(html);
  if (!header) return null;
  return `${String(header.count)}:${String(header.labels)}:${String(header.testIndices)}`;
}

/** Reads the pages of a log directory on disk. */
export function localPointsKeys(logdir: string): PointsKeyReader {
  return async (dir) =>
    pointsKeyOf(await readFile(join(logdir, ...dir.split('/'), PAGE_FILE), 'utf8').catch(() => null));
}

/** For each chain with a page: the other chains that show the same points (sorted). */
export async function comparableRuns(
  pointsKey: PointsKeyReader,
  dirs: readonly string[],
): Promise<Map<string, string[]>> {
  const keys = new Map<string, string>();
  for (const dir of dirs) {
    const key = await pointsKey(dir);
    if (key !== null) keys.set(dir, key);
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

/** The link that opens the page of chain `dir` with chain `other` beside it. */
export function compareUrl(dir: string, other: string): string {
  const path = posix.relative(dir, other).split('/').map(encodeURIComponent).join('/');
  return `${pageUrl(dir)}#compare=${encodeURIComponent(path)}`;
}
