import { randomUUID } from 'node:crypto';

/** A subject key: `g` (global), `f:<feature>` or `u:<user label>`. */
export type SubjectKey = string;

interface Reservation {
  readonly keys: readonly SubjectKey[];
  readonly amount: number;
  readonly expiresAt: number;
}

interface Settled {
  readonly at: number;
  amount: number;
}

/**
 * What Prometheus does not show yet: reservations of calls in flight and costs settled since the
 * last refresh. Settled costs are absorbed as the counters grow, or dropped after `settledTtlMs`,
 * so nothing is counted twice for long and no spend state lives here for good.
 */
export class BudgetLedger {
  private readonly reservations = new Map<string, Reservation>();
  private readonly reserved = new Map<SubjectKey, number>();
  private readonly settled = new Map<SubjectKey, Settled[]>();

  constructor(private settledTtlMs: number) {}

  setSettledTtl(ms: number): void {
    this.settledTtlMs = ms;
  }

  reserve(
    keys: readonly SubjectKey[],
    amount: number,
    ttlMs: number,
    now: number,
  ): { id: string; expiresAt: number } {
    const id = randomUUID();
    const expiresAt = now + ttlMs;
    this.reservations.set(id, { keys, amount, expiresAt });
    for (const key of keys) this.reserved.set(key, (this.reserved.get(key) ?? 0) + amount);
    return { id, expiresAt };
  }

  /** Releases the reservation and counts the actual cost; `fallback` names the subjects of an unknown id. */
  settle(
    id: string,
    cost: number,
    fallback: readonly SubjectKey[],
    now: number,
  ): 'released' | 'unknown' {
    const reservation = this.reservations.get(id);
    if (reservation) this.release(id, reservation);
    if (cost > 0) {
      for (const key of reservation?.keys ?? fallback) {
        let list = this.settled.get(key);
        if (!list) this.settled.set(key, (list = []));
        list.push({ at: now, amount: cost });
      }
    }
    return reservation ? 'released' : 'unknown';
  }

  /** Outstanding reservations of a subject. */
  reservedFor(key: SubjectKey): number {
    return this.reserved.get(key) ?? 0;
  }

  /** Settled costs not yet in Prometheus, settled at or after `since`. */
  settledFor(key: SubjectKey, since: number): number {
    const list = this.settled.get(key);
    if (!list) return 0;
    let sum = 0;
    for (const s of list) if (s.at >= since) sum += s.amount;
    return sum;
  }

  /** Subjects with settled costs Prometheus does not show yet. */
  settledKeys(): SubjectKey[] {
    return [...this.settled.keys()];
  }

  /** Prometheus showed `grew` USD more for a subject: that much settled cost is now counted there. */
  absorb(key: SubjectKey, grew: number): void {
    const list = this.settled.get(key);
    if (!list) return;
    let left = grew;
    while (left > 0 && list.length) {
      const first = list[0] as Settled;
      if (first.amount <= left + 1e-12) {
        left -= first.amount;
        list.shift();
      } else {
        first.amount -= left;
        left = 0;
      }
    }
    if (!list.length) this.settled.delete(key);
  }

  /** Drops expired reservations and settled costs older than the TTL. */
  expire(now: number): void {
    for (const [id, r] of this.reservations) if (r.expiresAt <= now) this.release(id, r);
    const oldest = now - this.settledTtlMs;
    for (const [key, list] of this.settled) {
      while (list.length && (list[0] as Settled).at < oldest) list.shift();
      if (!list.length) this.settled.delete(key);
    }
  }

  counts(): { reservations: number; reservedUsd: number; settledSubjects: number } {
    let reservedUsd = 0;
    for (const r of this.reservations.values()) reservedUsd += r.amount;
    return {
      reservations: this.reservations.size,
      reservedUsd,
      settledSubjects: this.settled.size,
    };
  }

  private release(id: string, r: Reservation): void {
    this.reservations.delete(id);
    for (const key of r.keys) {
      const left = (this.reserved.get(key) ?? 0) - r.amount;
      if (left > 1e-12) this.reserved.set(key, left);
      else this.reserved.delete(key);
    }
  }
}
