/**
 * One watcher per run: two would both draw every checkpoint and write each TensorBoard step
 * twice. `embeddings/watcher.lock` holds the owner's process id. A lock left by a watcher that
 * died (SIGKILL, power loss) is taken over: its process no longer exists.
 */
import { open, readFile, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireRunLock(path: string, runName: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (owner === process.pid) await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new UserError(describeFsError(error, 'create', path));
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new UserError(
        `run '${runName}' is already being drawn by another watcher (process ${owner}, see ${path}); stop that one ` +
          `first, or watch another run`,
      );
    }
    // Left by a watcher that is gone (or by this process): take it over.
    await rm(path, { force: true });
  }
  throw new UserError(
    `cannot take the lock ${path}: another watcher keeps taking it; stop the other watchers of this run`,
  );
}

/**
 * Removes the temporary files of atomic writes a killed watcher left behind (`.<name>.<pid>.<hex>.tmp`),
 * only those of processes that no longer exist.
 */
export async function removeStaleTemporaries(dirs: string[]): Promise<number> {
  let removed = 0;
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const match = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
      if (!match || isAlive(Number(match[1]))) continue;
      await rm(join(dir, name), { force: true, recursive: true });
      removed++;
    }
  }
  return removed;
}
