/**
 * Finding checkpoints: `<logdir>/<run>/checkpoints/step-NNNNNNNNN/` directories that hold a
 * `checkpoint.json` (the trainer renames a checkpoint into place when complete, so such a
 * directory is never half-written). The directory listing is the truth; chokidar's events only
 * say "look again now", and a slow poll catches anything an event missed.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { UserError, describeFsError } from '../../errors.ts';
import { CHECKPOINTS_DIR, checkpointsDir } from '../../layout.ts';
import { CHECKPOINT_JSON, listCheckpoints, parseCheckpointDirName } from '../../model/checkpoint/format.ts';
import { pathExists } from '../../util/exists.ts';

export interface CheckpointRef {
  run: string;
  step: number;
  dir: string;
}

/** Runs under `logdir` that have a `checkpoints/` folder, by name. */
export async function listRunsWithCheckpoints(logdir: string, only?: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(logdir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(describeFsError(error, 'list runs in', logdir));
  }
  const runs: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (only !== undefined && entry.name !== only) continue;
    if (await pathExists(checkpointsDir(join(logdir, entry.name)))) runs.push(entry.name);
  }
  return runs.sort();
}

/** Complete checkpoints of one run, by step. */
export async function listRunCheckpoints(logdir: string, run: string): Promise<CheckpointRef[]> {
  const found = await listCheckpoints(checkpointsDir(join(logdir, run)));
  return found.map(({ step, dir }) => ({ run, step, dir }));
}

/**
 * Calls `onChange` whenever something that may be a new run or checkpoint appears under
 * `logdir`. Only the four levels that matter are watched, not the runs' other files.
 */
export function watchForCheckpoints(logdir: string, onChange: () => void, only?: string): FSWatcher {
  const relevant = (path: string): boolean => {
    const rel = relative(logdir, path);
    if (rel === '') return true;
    const parts = rel.split(sep);
    if (parts.some((part) => part.startsWith('.') || part === '..')) return false;
    if (only !== undefined && parts[0] !== only) return false;
    switch (parts.length) {
      case 1:
        return true;
      case 2:
        return parts[1] === CHECKPOINTS_DIR;
      case 3:
        return parseCheckpointDirName(parts[2]!) !== undefined;
      case 4:
        return parts[3] === CHECKPOINT_JSON;
      default:
        return false;
    }
  };
  const watcher = watch(logdir, { ignoreInitial: true, depth: 3, ignored: (path: string) => !relevant(path) });
  watcher.on('add', onChange);
  watcher.on('addDir', onChange);
  watcher.on('error', () => onChange());
  return watcher;
}
