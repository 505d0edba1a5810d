/**
 * Admission control for the server: at most `maxInFlight` requests run at once, at most
 * `maxQueue` wait; beyond that a request is refused at once (503 + Retry-After) instead of
 * queueing without bound. A request that waits longer than its deadline leaves the queue
 * without ever running.
 */
import { UnavailableError } from '../errors.js';

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

export class Admission {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    /** Requests allowed to run at once. */
    readonly maxInFlight: number,
    /** Requests allowed to wait for a free place. */
    readonly maxQueue: number,
  ) {}

  /** Requests running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Requests waiting now. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Wait for a place (at most `waitMs`); resolves to a release function that must be called once
   * the request is done. Rejects with E_OVERLOADED when the queue is full and E_TIMEOUT when the
   * wait runs out.
   */
  acquire(waitMs: number): Promise<() => void> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.next();
    };
    if (this.running < this.maxInFlight) {
      this.running++;
      return Promise.resolve(release);
    }
    if (this.waiting.length >= this.maxQueue) {
      return Promise.reject(new UnavailableError('E_OVERLOADED', `server overloaded: ${this.running} requests running and ${this.waiting.length} waiting (limits ${this.maxInFlight} and ${this.maxQueue})`));
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        resolve: () => resolve(release),
        reject,
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(w);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new UnavailableError('E_TIMEOUT', `request waited ${waitMs} ms for a free place and was not run`));
        }, waitMs),
      };
      this.waiting.push(w);
    });
  }

  /** A place was freed: hand it to the oldest waiter, or give it back. */
  private next(): void {
    const w = this.waiting.shift();
    if (w) {
      clearTimeout(w.timer);
      w.resolve();
    } else {
      this.running--;
    }
  }
}
