/** Named timeouts: setting a name again replaces its timer; stop() clears all and refuses new ones. */
export class Timers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  set(name: string, ms: number, fn: () => void): void {
    this.clear(name);
    if (this.stopped) return;
    this.timers.set(
      name,
      setTimeout(
        () => {
          this.timers.delete(name);
          fn();
        },
        Math.max(0, ms),
      ),
    );
  }

  has(name: string): boolean {
    return this.timers.has(name);
  }

  clear(name: string): void {
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  get size(): number {
    return this.timers.size;
  }
}
