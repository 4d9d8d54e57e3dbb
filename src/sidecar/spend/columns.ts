/**
 * Spend maps sent from the spend thread as columns: each subject gets a stable index once, and a
 * refresh then moves only Float64Arrays (transferred, not copied) plus the subjects first seen.
 * The thread answering decisions so never parses, copies or rebuilds 100,000 entries.
 */

/** Subjects by index, on the sending side. */
export class SubjectEncoder {
  private readonly ids = new Map<string, number>();
  private fresh: string[] = [];

  /** Registers the subjects of a map (call for every map before `column`). */
  register(values: ReadonlyMap<string, number>): void {
    for (const subject of values.keys()) {
      if (!this.ids.has(subject)) {
        this.ids.set(subject, this.ids.size);
        this.fresh.push(subject);
      }
    }
  }

  /** The map as a column; NaN where a subject has no value. */
  column(values: ReadonlyMap<string, number>): Float64Array {
    const column = new Float64Array(this.ids.size).fill(NaN);
    for (const [subject, value] of values) column[this.ids.get(subject) ?? 0] = value;
    return column;
  }

  /** Subjects registered since the last call, in index order. */
  takeFresh(): string[] {
    const fresh = this.fresh;
    this.fresh = [];
    return fresh;
  }
}

/** Subjects by index, on the receiving side. */
export class SubjectIndex {
  readonly ids = new Map<string, number>();
  readonly names: string[] = [];

  add(fresh: readonly string[]): void {
    for (const subject of fresh) {
      this.ids.set(subject, this.names.length);
      this.names.push(subject);
    }
  }
}

/** A read-only map over a column. */
export class Column implements ReadonlyMap<string, number> {
  constructor(
    private readonly index: SubjectIndex,
    private readonly column: Float64Array,
  ) {}

  get(subject: string): number | undefined {
    const i = this.index.ids.get(subject);
    if (i === undefined || i >= this.column.length) return undefined;
    const v = this.column[i] as number;
    return Number.isNaN(v) ? undefined : v;
  }

  has(subject: string): boolean {
    return this.get(subject) !== undefined;
  }

  get size(): number {
    let n = 0;
    for (const v of this.column) if (!Number.isNaN(v)) n++;
    return n;
  }

  *entries(): MapIterator<[string, number]> {
    for (let i = 0; i < this.column.length; i++) {
      const v = this.column[i] as number;
      if (!Number.isNaN(v)) yield [this.index.names[i] as string, v];
    }
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<number> {
    for (const [, v] of this.entries()) yield v;
  }

  forEach(fn: (value: number, key: string, map: ReadonlyMap<string, number>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }

  [Symbol.iterator](): MapIterator<[string, number]> {
    return this.entries();
  }
}
