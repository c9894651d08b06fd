/**
 * The real TensorBoard 2.21 (`../shared/tools/tensorboard/serve`) on a free loopback port, as a
 * user starts it: the log directory and the flags the README recommends. Killed when the test
 * process ends, whatever happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { TENSORBOARD_SERVE } from '../../helpers/requirements.ts';
import { killOnExit } from '../../helpers/cli.ts';

/** The serve script's default; TensorBoard polls the event files this often. */
export const RELOAD_INTERVAL_SECONDS = 2;

/** A port nothing listens on now: the system picks it for a socket bound to port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TensorBoardServer {
  url: string;
  process: ChildProcess;
  /** What it printed, for failure messages. */
  output: string[];
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}data/runs`)).ok;
  } catch {
    return false;
  }
}

export async function startTensorBoard(
  logdir: string,
  flags: readonly string[],
  startSeconds = 90,
): Promise<TensorBoardServer> {
  const port = await freePort();
  const child = spawn(TENSORBOARD_SERVE, [logdir, String(port), ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = killOnExit(child);
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  }
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    forget();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + startSeconds * 1000;
  while (!(await answers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`TensorBoard did not answer on ${url}:\n${output.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, process: child, output, stop };
}
