/**
 * The worker threads of a data-parallel run: starts them (each loads tfjs and builds its
 * replica), hands each its slice of every step, and stops them. A worker that fails or dies
 * rejects the step in progress (and every later one) with one line naming it; `close` always
 * terminates every thread, so nothing outlives the trainer.
 *
 * The entry file is TypeScript: see `startTypeScriptWorker`.
 */
import type { Worker } from 'node:worker_threads';
import { UserError } from '../../errors.ts';
import { startTypeScriptWorker } from '../../util/typescript-worker.ts';
import type { Exchange } from './exchange.ts';
import type { FromWorker, InitMessage, ToWorker } from './protocol.ts';
import type { Slice } from './slices.ts';

const ENTRY_URL = new URL('./worker-entry.ts', import.meta.url).href;

export interface PoolOptions {
  exchange: Exchange;
  backend: string;
  init: Omit<InitMessage, 'type' | 'index' | 'workers' | 'backend' | 'buffers'>;
}

type Waiter = { resolve: (message: FromWorker) => void; reject: (error: Error) => void };

/** Raised when a worker thread fails: one line for the user, the worker's stack kept for DEBUG. */
export class WorkerFailure extends UserError {
  constructor(
    message: string,
    readonly workerStack?: string,
  ) {
    super(message);
    this.name = 'WorkerFailure';
  }
}

class TrainingWorker {
  private waiter: Waiter | undefined;
  failure: WorkerFailure | undefined;
  private closing = false;

  constructor(
    readonly worker: Worker,
    readonly label: string,
  ) {
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'failed') this.fail(`${label} failed: ${message.message}`, message.stack);
      else this.settle((w) => w.resolve(message));
    });
    worker.on('error', (error) => this.fail(`${label} crashed: ${error.message}`, error.stack));
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(`${label} exited unexpectedly (code ${code})`);
    });
  }

  private settle(action: (waiter: Waiter) => void): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) action(waiter);
  }

  private fail(message: string, stack?: string): void {
    this.failure ??= new WorkerFailure(message, stack);
    this.settle((w) => w.reject(this.failure!));
  }

  /** Sends one message and waits for its answer. */
  request(message: ToWorker): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error(`${this.label} is still busy`));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.settle((w) => w.reject(new Error(`${this.label} was stopped`)));
    await this.worker.terminate();
  }
}

export class WorkerPool {
  private readonly members: TrainingWorker[];
  private nextId = 0;

  private constructor(
    members: TrainingWorker[],
    readonly exchange: Exchange,
  ) {
    this.members = members;
  }

  /** Starts `exchange.workers` threads and waits until every replica is built. */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    const { exchange } = options;
    const count = exchange.workers;
    const members = Array.from(
      { length: count },
      (_, index) => new TrainingWorker(startTypeScriptWorker(ENTRY_URL), `worker ${index + 1} of ${count}`),
    );
    const pool = new WorkerPool(members, exchange);
    try {
      await Promise.all(
        members.map((member, index) =>
          member.request({
            ...options.init,
            type: 'init',
            index,
            workers: count,
            backend: options.backend,
            buffers: exchange.buffers,
          }),
        ),
      );
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.members.length;
  }

  /** The threads themselves (tests stop one to see a crash handled). */
  get threads(): Worker[] {
    return this.members.map((m) => m.worker);
  }

  /**
   * Every worker with a slice computes its gradients into its row (the images and labels are
   * already in the shared buffers). Resolves when all have answered; rejects with the first
   * failure, after the others have finished, so no thread still writes shared memory.
   */
  async step(slices: Slice[], weightsVersion: number): Promise<void> {
    if (slices.length > this.members.length)
      throw new Error(`${slices.length} slices for ${this.members.length} workers`);
    const id = this.nextId++;
    const answers = await Promise.allSettled(
      slices.map((slice, w) =>
        this.members[w]!.request({ type: 'step', id, start: slice.start, count: slice.count, weightsVersion }),
      ),
    );
    const failed = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * The gradient rows of the last step averaged into `exchange.average`, weighted by `shares`
   * (one per slice): every worker averages one contiguous segment, so the trainer's thread does
   * not read all the rows alone (16 rows of the seed ResNet: about 0.1–0.2 s on one thread).
   */
  async reduce(shares: number[]): Promise<void> {
    const id = this.nextId++;
    const size = this.exchange.layout.rowSize;
    const count = this.members.length;
    const segments = this.members.map((_, w) => ({
      from: Math.floor((w * size) / count),
      to: Math.floor(((w + 1) * size) / count),
    }));
    const answers = await Promise.allSettled(
      segments.map(({ from, to }, w) => this.members[w]!.request({ type: 'reduce', id, from, to, shares })),
    );
    const failed = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Each worker's weights checksum, after loading the weights of `weightsVersion`. */
  async checksums(weightsVersion: number): Promise<string[]> {
    const id = this.nextId++;
    const answers = await Promise.all(this.members.map((m) => m.request({ type: 'checksum', id, weightsVersion })));
    return answers.map((a) => (a.type === 'checksum' ? a.checksum : ''));
  }

  /** Terminates every thread (also after a failure); safe to call twice. */
  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.close()));
  }
}
