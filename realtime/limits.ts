/**
 * A socket's inbound frame budget: a token bucket holding `frames`, refilled evenly over
 * `windowMs`. A client may burst up to the whole budget, then keep to its rate.
 */
export class FrameBudget {
  private readonly frames: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(frames: number, windowMs: number, now: () => number = Date.now) {
    this.frames = frames;
    this.windowMs = windowMs;
    this.now = now;
    this.tokens = frames;
    this.last = now();
  }

  /** Spends one frame; false when the budget is spent. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.frames, this.tokens + ((now - this.last) * this.frames) / this.windowMs);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Open connections per client address. A slot is taken synchronously when an upgrade
 * starts, before anything asynchronous, so parallel connects cannot overshoot the limit.
 */
export class AddressSlots {
  private readonly open = new Map<string, number>();
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  acquire(address: string): boolean {
    const count = this.open.get(address) ?? 0;
    if (count >= this.limit) return false;
    this.open.set(address, count + 1);
    return true;
  }

  release(address: string): void {
    const count = this.open.get(address) ?? 0;
    if (count <= 1) this.open.delete(address);
    else this.open.set(address, count - 1);
  }
}
