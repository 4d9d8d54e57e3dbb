/** A summary kept by the response cache, with the usage of the call that produced it. */
export interface CachedSummary {
  summary: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

/** The summarise feature's response cache: the most recent documents, by id. */
export class ResponseCache {
  private readonly entries = new Map<string, CachedSummary>();

  constructor(private readonly capacity = 500) {}

  get(key: string): CachedSummary | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last: the first key is the one to evict.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: CachedSummary): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
