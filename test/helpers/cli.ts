/**
 * The CLI as a user runs it, in a child process (`node bin/embedding-timelapse.js <args>`), with its
 * output kept line by line, and the waiting that tests of long-running commands need. Every
 * child is killed when the test process exits, so a failed assertion leaves nothing running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export const CLI = new URL('../../bin/embedding-timelapse.js', import.meta.url).pathname;
export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

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

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliChild {
  process: ChildProcess;
  /** Every line of stdout and stderr, in the order they arrived. */
  lines: string[];
  /** The lines of stdout alone (e.g. `--json`'s NDJSON). */
  stdout: string[];
  exited: Promise<ExitStatus>;
}

/** `embedding-timelapse <args>` in a child process, its output kept line by line. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = process.env): CliChild {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  killOnExit(child);
  const lines: string[] = [];
  const stdout: string[] = [];
  // A progress bar redraws with '\r': each redraw counts as a line.
  const split = (line: string) => line.split('\r');
  createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
    lines.push(...split(line));
    stdout.push(...split(line));
  });
  createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (line) => lines.push(...split(line)));
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { process: child, lines, stdout, exited };
}

/** Runs the CLI to its end; fails with its output unless it exits 0. Returns its output. */
export async function runCliToEnd(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const child = startCli(args, env);
  const { code, signal } = await child.exited;
  const output = child.lines.join('\n');
  if (code !== 0) throw new Error(`${args.join(' ')} ended with ${code ?? signal}:\n${output}`);
  return output;
}

/** Polls `check` until it holds; fails naming `what` after `seconds`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
