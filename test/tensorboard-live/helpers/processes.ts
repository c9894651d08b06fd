/** Child processes of a test: the CLI as a user runs it, and a guard that kills them all at exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const CLI = new URL('../../../src/cli.ts', import.meta.url).pathname;
const ROOT = new URL('../../../', import.meta.url).pathname;

const living = new Set<ChildProcess>();
process.on('exit', () => {
  // Last resort (a failed assertion or a timeout skipped the test's own cleanup).
  for (const child of living) child.kill('SIGKILL');
});

/** Kills `child` when this process exits; returns a function that stops guarding it. */
export function killOnExit(child: ChildProcess): () => void {
  living.add(child);
  child.once('exit', () => living.delete(child));
  return () => living.delete(child);
}

export interface CliChild {
  process: ChildProcess;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `embedding-timelapse <args>` in a child process, its output kept line by line. */
export function startCli(args: string[]): CliChild {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  killOnExit(child);
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => lines.push(...line.split('\r')));
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { process: child, lines, exited };
}
