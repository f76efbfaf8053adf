/** setTimeout that can be paused (callbacks due while paused run on resume) and closed. */
export class Clock {
  private paused = false;
  private closed = false;
  private deferred: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  after(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        if (this.closed) return;
        if (this.paused) this.deferred.push(fn);
        else run(fn);
      },
      Math.max(0, ms),
    );
    this.timers.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const d = this.deferred;
    this.deferred = [];
    for (const fn of d) run(fn);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.deferred = [];
  }
}

function run(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    console.error('kube emulator: controller step failed', err);
  }
}
