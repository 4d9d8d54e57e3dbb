/**
 * Prints lines as they happen, at most one per `intervalMs`: the ones in between are counted and
 * announced with the next line printed (a runaway client can get hundreds of 402s a minute).
 */
export class ThrottledLog {
  private last = 0;
  private skipped = 0;

  constructor(
    private readonly out: (line: string) => void,
    /** What is counted, e.g. `402s`. */
    private readonly what: string,
    private readonly intervalMs = 2_000,
  ) {}

  line(text: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.skipped++;
      return;
    }
    this.last = now;
    this.out(this.skipped ? `${text} (+${this.skipped} more ${this.what})` : text);
    this.skipped = 0;
  }
}
