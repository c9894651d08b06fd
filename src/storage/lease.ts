/**
 * A lease: the lock that works across machines. A process id means nothing on another machine
 * and a lock file's age means little across clocks, so a lease is one small object that
 * - is created with a conditional write (S3 `If-None-Match: *`): of two claimants one wins;
 * - is renewed by its holder well within its time to live, each renewal a conditional replace
 *   over the version the holder wrote last, so a holder that was taken over learns it;
 * - is taken over only when expired: a waiter watches it and, when it has not changed for its
 *   time to live as measured by the waiter's own clock (no clocks are compared across machines),
 *   replaces it conditionally over the version it watched: of two waiters one wins;
 * - is released by writing a released version, which a waiter takes at once.
 * A holder that cannot renew for its whole time to live (the store away) counts itself as lost
 * and stops, since a waiter may have taken over by then.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Storage } from './storage.ts';

export interface LeaseBody {
  /** Who holds it, for messages: `host:pid` plus a random id. Never compared with anything local. */
  owner: string;
  /** Fresh for every version written: tells a holder whether the current version is its own. */
  token: string;
  ttlMs: number;
  /** The holder's clock when written; for people reading the object, never for expiry. */
  writtenAt: string;
  released?: boolean;
}

export interface LeaseOptions {
  /** How long a lease lasts without renewal (default 30 s). */
  ttlMs?: number;
  /** How often the holder renews (default a third of the time to live). */
  renewEveryMs?: number;
  /** How often a waiter looks at the lease (default a quarter of the time to live). */
  pollMs?: number;
  /** Names the holder in messages (default `host:pid`). */
  owner?: string;
  /** One line when starting to wait and when the lease is lost (default stderr). */
  notify?: (line: string) => void;
  /** Stops waiting (acquire rejects with the signal's reason). */
  signal?: AbortSignal;
}

const DEFAULT_TTL_MS = 30_000;

function newToken(): string {
  return randomBytes(8).toString('hex');
}

function parseBody(data: Buffer): LeaseBody | undefined {
  try {
    const body = JSON.parse(data.toString()) as Partial<LeaseBody>;
    if (typeof body.token !== 'string' || typeof body.ttlMs !== 'number') return undefined;
    return body as LeaseBody;
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}

export class Lease {
  /** Aborted when the lease is lost (taken over, or not renewable for its time to live): stop working. */
  readonly signal: AbortSignal;
  private readonly lostController = new AbortController();
  private etag: string;
  private renewTimer: NodeJS.Timeout | undefined;
  private lastRenewed = performance.now();
  private renewing: Promise<void> | undefined;
  /** Renewals that went through, for logs and tests. */
  renewals = 0;

  private constructor(
    readonly storage: Storage,
    readonly key: string,
    readonly owner: string,
    readonly ttlMs: number,
    held: { etag: string },
    private readonly notify: (line: string) => void,
    renewEveryMs: number,
  ) {
    this.etag = held.etag;
    this.signal = this.lostController.signal;
    this.renewTimer = setInterval(() => void this.renew(), renewEveryMs);
    this.renewTimer.unref();
  }

  get lost(): boolean {
    return this.signal.aborted;
  }

  /**
   * Waits until the lease at `key` is this process's: free, released, or expired. Says once
   * (via `notify`) who holds it while waiting.
   */
  static async acquire(storage: Storage, key: string, options: LeaseOptions = {}): Promise<Lease> {
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    const owner = options.owner ?? `${hostname()}:${process.pid}:${newToken().slice(0, 6)}`;
    const notify = options.notify ?? ((line) => process.stderr.write(`${line}\n`));
    const pollMs = options.pollMs ?? Math.max(50, Math.floor(ttlMs / 4));
    const renewEveryMs = options.renewEveryMs ?? Math.max(50, Math.floor(ttlMs / 3));
    const body = (): { token: string; data: string } => {
      const token = newToken();
      const version: LeaseBody = { owner, token, ttlMs, writtenAt: new Date().toISOString() };
      return { token, data: JSON.stringify(version) };
    };
    /** The version last seen, and when (this process's clock) it was first seen. */
    let watched: { etag: string; since: number; body: LeaseBody | undefined } | undefined;
    let announced = false;
    for (;;) {
      options.signal?.throwIfAborted();
      const mine = body();
      const info = await storage.stat(key);
      let won = false;
      if (info === undefined) {
        won = await storage.createIfAbsent(key, mine.data);
      } else {
        if (watched?.etag !== info.etag) {
          const current = await storage.read(key).catch(() => undefined);
          watched = { etag: info.etag, since: performance.now(), body: current && parseBody(current) };
        }
        const ttl = watched.body?.ttlMs ?? ttlMs;
        if (watched.body?.released || performance.now() - watched.since >= ttl) {
          won = await storage.replaceIfUnchanged(key, mine.data, info.etag);
        } else if (!announced) {
          announced = true;
          const holder = watched.body?.owner ?? 'an unreadable lease';
          notify(
            `lease ${storage.location(key)} is held by ${holder}; ` +
              `waiting until it is released or expires (${Math.round(ttl / 1000)} s without renewal)`,
          );
        }
      }
      // A write retried after a lost answer reports failure for what was in fact ours.
      const held = won ? await storage.stat(key) : undefined;
      if (won && held) return new Lease(storage, key, owner, ttlMs, { etag: held.etag }, notify, renewEveryMs);
      if (!won && (await Lease.isOurs(storage, key, mine.token))) {
        const ours = await storage.stat(key);
        if (ours) return new Lease(storage, key, owner, ttlMs, { etag: ours.etag }, notify, renewEveryMs);
      }
      await sleep(pollMs, options.signal);
    }
  }

  private static async isOurs(storage: Storage, key: string, token: string): Promise<boolean> {
    const data = await storage.read(key).catch(() => undefined);
    return data !== undefined && parseBody(data)?.token === token;
  }

  private version(released = false): { token: string; data: string } {
    const token = newToken();
    const body: LeaseBody = { owner: this.owner, token, ttlMs: this.ttlMs, writtenAt: new Date().toISOString() };
    if (released) body.released = true;
    return { token, data: JSON.stringify(body) };
  }

  /** Writes a new version over our last one; runs on the timer, one at a time. */
  renew(): Promise<void> {
    if (this.lost) return Promise.resolve();
    this.renewing ??= this.replaceOurs(false)
      .then((ok) => {
        if (ok) {
          this.renewals++;
          this.lastRenewed = performance.now();
        } else this.lose(`lease ${this.storage.location(this.key)} was taken over by another process; stopping`);
      })
      .catch(() => {
        // The store is away: keep the work going while the lease cannot have expired for others.
        if (performance.now() - this.lastRenewed >= this.ttlMs) {
          this.lose(
            `lease ${this.storage.location(this.key)} could not be renewed ` +
              `for ${Math.round(this.ttlMs / 1000)} s; stopping`,
          );
        }
      })
      .finally(() => {
        this.renewing = undefined;
      });
    return this.renewing;
  }

  private async replaceOurs(released: boolean): Promise<boolean> {
    const next = this.version(released);
    const replaced = await this.storage.replaceIfUnchanged(this.key, next.data, this.etag);
    if (!replaced && !(await Lease.isOurs(this.storage, this.key, next.token))) return false;
    const info = await this.storage.stat(this.key);
    if (!info) return false;
    this.etag = info.etag;
    return true;
  }

  private lose(line: string): void {
    this.stopRenewing();
    if (this.lost) return;
    this.notify(line);
    this.lostController.abort(new Error(line));
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  /** Stops renewing without releasing: what a crash looks like to the others (tests, kill paths). */
  abandon(): void {
    this.stopRenewing();
  }

  /** Hands the lease back so a waiter takes it at once; harmless when lost or released already. */
  async release(): Promise<void> {
    this.stopRenewing();
    await this.renewing;
    if (this.lost) return;
    await this.replaceOurs(true).catch(() => false);
    this.lostController.abort(new Error(`lease ${this.storage.location(this.key)} released`));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
