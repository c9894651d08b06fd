/**
 * The worker side of `TsneWorker`: receives a frame's input, runs `tsneFrame`, sends the result
 * back with its buffer transferred, then waits for the next frame (or a request to start its
 * helper threads ahead of the first). Its helper threads stay up between frames (they end with
 * this thread). Errors travel as plain data so the parent can re-create a `UserError` (one-line
 * message) or an ordinary Error.
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

/** Start the helper threads for frames on `warmUp` threads now (no reply). */
export interface WorkerWarmUp {
  warmUp: number;
}

export type WorkerReply =
  | { ok: true; result: ReturnType<typeof tsneFrame> }
  | { ok: false; userError: boolean; message: string; stack?: string };

const kept = new KeptThreads();
const port = parentPort;
if (port === null) throw new Error('tsne-worker-entry.ts must run in a worker thread');
port.on('message', (request: WorkerRequest | WorkerWarmUp) => {
  if ('warmUp' in request) {
    warmUp(request.warmUp);
    return;
  }
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

/** Starts the helpers a frame on `threads` threads keeps; if that fails, the frame tries again and says why. */
function warmUp(threads: number): void {
  if (threads <= 1) return;
  try {
    kept.get(threads);
  } catch {
    kept.close();
  }
}
