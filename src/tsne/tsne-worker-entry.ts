/**
 * The worker side of `TsneWorker`: receives a frame's input, runs `tsneFrame`, sends the result
 * back with its buffer transferred, then waits for the next frame. Its helper threads stay up
 * between frames (they end with this thread). Errors travel as plain data so the parent can
 * re-create a `UserError` (one-line message) or an ordinary Error.
 */
import { parentPort } from 'node:worker_threads';
import { isUserError } from '../errors.ts';
import { KeptThreads, tsneFrame, type FrameOptions } from './frame.ts';

export interface WorkerRequest {
  X: Float32Array;
  n: number;
  d: number;
  options: FrameOptions;
}

export type WorkerReply =
  | { ok: true; result: ReturnType<typeof tsneFrame> }
  | { ok: false; userError: boolean; message: string; stack?: string };

const kept = new KeptThreads();
const port = parentPort;
if (port === null) throw new Error('tsne-worker-entry.ts must run in a worker thread');
port.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const result = tsneFrame(request.X, request.n, request.d, request.options, kept);
    reply = { ok: true, result };
    port.postMessage(reply, [result.positions.buffer as ArrayBuffer]);
  } catch (error) {
    reply = {
      ok: false,
      userError: isUserError(error),
      message: (error as Error)?.message ?? String(error),
      stack: (error as Error)?.stack,
    };
    port.postMessage(reply);
  }
});
