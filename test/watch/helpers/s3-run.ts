/** For the s3:// watcher tests: fake checkpoints uploaded as the trainer does, the watcher as a process, the bucket read back. */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { rm } from 'node:fs/promises';
import { checkpointDirName } from '../../../src/model/checkpoint/format.ts';
import { writeWithManifest } from '../../../src/storage/manifest.ts';
import type { Storage } from '../../../src/storage/storage.ts';
import { fakeCheckpointMeta } from './fake-stages.ts';

export const S3_FAKE_WATCHER = new URL('./s3-fake-watcher.ts', import.meta.url).pathname;

/** The trainer's side of the contract: the checkpoint's files, then its manifest (writeWithManifest). */
export async function uploadFakeCheckpoint(
  storage: Storage,
  run: string,
  step: number,
  frame: number,
): Promise<string> {
  const folder = `${run}/checkpoints/${checkpointDirName(step)}`;
  const meta = Buffer.from(JSON.stringify(fakeCheckpointMeta(step, frame)));
  await writeWithManifest(storage, folder, new Map([['checkpoint.json', meta]]));
  return folder;
}

export interface WatcherRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The JSON lines it printed. */
  lines: Record<string, unknown>[];
}

/** Starts the s3 fake watcher; `done` resolves when it exits. */
export function startS3Watcher(
  url: string,
  valSize: number,
  env: Record<string, string> = {},
  args: string[] = [],
): { done: Promise<WatcherRun>; kill: (signal?: NodeJS.Signals) => void; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', S3_FAKE_WATCHER, url, String(valSize), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<WatcherRun>((resolve) => {
    child.on('exit', (code, signal) => {
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code, signal, stdout, stderr, lines });
    });
  });
  return { done, kill: (signal = 'SIGKILL') => child.kill(signal), output: () => stdout + stderr };
}

export function runS3Watcher(url: string, valSize: number, env: Record<string, string> = {}): Promise<WatcherRun> {
  return startS3Watcher(url, valSize, env).done;
}

/** Everything under `<run>/` in the bucket, copied to a fresh local folder (the run's folder is returned). */
export async function downloadRun(t: TestContext, storage: Storage, run: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3-watch-check-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const info of await storage.list(`${run}/`)) {
    const path = join(dir, ...info.key.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, await storage.read(info.key));
  }
  return join(dir, run);
}
