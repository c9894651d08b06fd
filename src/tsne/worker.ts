/**
 * Runs t-SNE frames on a worker thread so the caller (the watcher) stays responsive.
 *
 * One `TsneWorker` keeps its thread between frames: starting one costs 0.4–0.6 s through tsx (a
 * V8 isolate, tsx's loader, the code compiled and warmed up again), as much as a whole 1,000-point
 * warm frame, and less from the command's compiled build (a helper thread: about 40 ms against
 * 0.2 s). A frame is a pure function of its request, so nothing carries over but compiled code
 * and the frame's helper threads (`KeptThreads`), which is why frames of 500 points and more
 * already split their gradient over them here, where a frame that starts its own waits for 5,000.
 * The thread does not keep the process alive while idle; a thread that failed is replaced.
 * The worker file is TypeScript: see `startTypeScriptWorker`.
 */
import type { Worker } from 'node:worker_threads';
import { UserError } from '../errors.ts';
import { startTypeScriptWorker } from '../util/typescript-worker.ts';
import type { FrameOptions, FrameResult } from './frame.ts';
import type { WorkerReply, WorkerRequest, WorkerWarmUp } from './tsne-worker-entry.ts';

const ENTRY_URL = new URL('./tsne-worker-entry.ts', import.meta.url).href;

export interface WorkerFrameOptions extends FrameOptions {
  /**
   * Hand X's buffer to the worker instead of copying it (X becomes unusable here). Off by default,
   * because callers usually still need X for the quality measures.
   */
  transferInput?: boolean;
}

export class TsneWorker {
  private worker: Worker | null = null;
  /** Frames run one after another: the next waits for the one before. */
  private queue: Promise<unknown> = Promise.resolve();

  run(X: Float32Array, n: number, d: number, options: WorkerFrameOptions = {}): Promise<FrameResult> {
    const frame = this.queue.then(() => this.runNow(X, n, d, options));
    this.queue = frame.catch(() => undefined);
    return frame;
  }

  /**
   * Starts the thread now, and its helpers for frames on `threads` threads, so that the first
   * frame does not wait for them (through tsx 0.4–0.6 s for the thread, 0.1–0.3 s per helper). The
   * watcher calls this as it starts: in a live run that is long before the first checkpoint.
   */
  warmUp(threads: number): void {
    this.queue = this.queue
      .then(() => this.startedWorker().postMessage({ warmUp: threads } satisfies WorkerWarmUp))
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.queue;
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  /**
   * The thread, started if there is none. It does not keep the process alive while idle, and one
   * that fails or exits between frames is forgotten, so the next frame starts a new one.
   */
  private startedWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = startTypeScriptWorker(ENTRY_URL);
    const forget = (): void => {
      if (this.worker === worker) this.worker = null;
    };
    worker.on('error', forget).on('exit', forget);
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private runNow(X: Float32Array, n: number, d: number, options: WorkerFrameOptions): Promise<FrameResult> {
    const { transferInput = false, ...frameOptions } = options;
    const worker = this.startedWorker();
    worker.ref();
    const request: WorkerRequest = { X, n, d, options: frameOptions };
    return new Promise<FrameResult>((resolve, reject) => {
      const done = (): void => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        worker.unref();
      };
      // `startedWorker` forgets a thread that failed or exited; this also ends it.
      const discard = (): void => void worker.terminate();
      const onMessage = (reply: WorkerReply): void => {
        done();
        if (reply.ok) resolve(reply.result);
        else if (reply.userError) reject(new UserError(reply.message));
        else reject(Object.assign(new Error(`t-SNE worker: ${reply.message}`), { stack: reply.stack }));
      };
      const onError = (error: Error): void => {
        done();
        discard();
        reject(error);
      };
      const onExit = (code: number): void => {
        done();
        discard();
        reject(new Error(`t-SNE worker exited with code ${code} before answering`));
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(request, transferInput ? [X.buffer as ArrayBuffer] : []);
    });
  }
}

/** One frame on a thread of its own, started and ended here. */
export async function runTsneFrameInWorker(
  X: Float32Array,
  n: number,
  d: number,
  options: WorkerFrameOptions = {},
): Promise<FrameResult> {
  const worker = new TsneWorker();
  try {
    return await worker.run(X, n, d, options);
  } finally {
    await worker.close();
  }
}
