/**
 * Runs one t-SNE frame on a worker thread so the caller (the watcher) stays responsive.
 *
 * A fresh worker per frame: frames are minutes apart, a worker costs a fraction of a second to
 * start, and nothing can leak between frames. The worker file is TypeScript: see
 * `startTypeScriptWorker`.
 */
import { UserError } from '../errors.ts';
import { startTypeScriptWorker } from '../util/typescript-worker.ts';
import type { FrameOptions, FrameResult } from './frame.ts';
import type { WorkerReply, WorkerRequest } from './tsne-worker-entry.ts';

const ENTRY_URL = new URL('./tsne-worker-entry.ts', import.meta.url).href;

export interface WorkerFrameOptions extends FrameOptions {
  /**
   * Hand X's buffer to the worker instead of copying it (X becomes unusable here). Off by default,
   * because callers usually still need X for the quality measures.
   */
  transferInput?: boolean;
}

export function runTsneFrameInWorker(
  X: Float32Array,
  n: number,
  d: number,
  options: WorkerFrameOptions = {},
): Promise<FrameResult> {
  const { transferInput = false, ...frameOptions } = options;
  const worker = startTypeScriptWorker(ENTRY_URL);
  const request: WorkerRequest = { X, n, d, options: frameOptions };
  return new Promise<FrameResult>((resolve, reject) => {
    let settled = false;
    worker.once('message', (reply: WorkerReply) => {
      settled = true;
      void worker.terminate();
      if (reply.ok) resolve(reply.result);
      else if (reply.userError) reject(new UserError(reply.message));
      else reject(Object.assign(new Error(`t-SNE worker: ${reply.message}`), { stack: reply.stack }));
    });
    worker.once('error', (error) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`t-SNE worker exited with code ${code} before answering`));
    });
    worker.postMessage(request, transferInput ? [X.buffer as ArrayBuffer] : []);
  });
}
