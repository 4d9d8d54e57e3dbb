import { addDays, localDate, startOfLocalDay, type LocalDate } from '../calendar/windows';

/** One local calendar day of a period (or its part inside the period). */
export interface PeriodDay {
  /** Local date, `YYYY-MM-DD`. */
  readonly date: string;
  /** Inclusive start, ms since epoch. */
  readonly start: number;
  /** Exclusive end, ms since epoch. */
  readonly end: number;
}

/** A report period [start, end) split into local days of `timezone`. */
export interface Period {
  readonly start: number;
  readonly end: number;
  readonly timezone: string;
  readonly days: readonly PeriodDay[];
}

/** A bad --month / --from / --to / --timezone value, with the option it came from. */
export class PeriodError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeriodError';
  }
}

/**
 * Counter increases are read on a 15-minute grid: every local midnight of every time zone falls
 * on it (offsets are whole quarter hours), so period and day boundaries must too.
 */
export const GRID_MS = 15 * 60_000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

/** `--month YYYY-MM` in `timezone`: from its first local midnight to the next month's. */
export function monthPeriod(month: string, timezone: string): Period {
  const m = MONTH.exec(month);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12)
    throw new PeriodError(`--month ${month}: expected YYYY-MM, e.g. 2026-11`);
  const first: LocalDate = { y: Number(m[1]), m: Number(m[2]), d: 1 };
  const next: LocalDate =
    first.m === 12 ? { y: first.y + 1, m: 1, d: 1 } : { ...first, m: first.m + 1 };
  checkZone(timezone);
  return period(startOfLocalDay(first, timezone), startOfLocalDay(next, timezone), timezone);
}

/**
 * `--from` / `--to`: a local date (`YYYY-MM-DD`, midnight in `timezone`; `--to` is exclusive)
 * or an RFC 3339 instant on a quarter hour.
 */
export function rangePeriod(from: string, to: string, timezone: string): Period {
  checkZone(timezone);
  const start = instant(from, '--from', timezone);
  const end = instant(to, '--to', timezone);
  if (end <= start) throw new PeriodError(`--to ${to} must be after --from ${from}`);
  return period(start, end, timezone);
}

function instant(value: string, option: string, timezone: string): number {
  const d = DATE.exec(value);
  let t: number;
  if (d) {
    t = startOfLocalDay({ y: Number(d[1]), m: Number(d[2]), d: Number(d[3]) }, timezone);
  } else {
    t = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
    if (!Number.isFinite(t))
      throw new PeriodError(`${option} ${value}: expected YYYY-MM-DD or an RFC 3339 time`);
  }
  if (t % GRID_MS !== 0)
    throw new PeriodError(`${option} ${value}: must be on a quarter hour (:00, :15, :30, :45)`);
  return t;
}

function checkZone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new PeriodError(`--timezone ${timezone}: not an IANA time zone (e.g. Europe/Paris)`);
  }
}

function period(start: number, end: number, timezone: string): Period {
  const days: PeriodDay[] = [];
  for (let t = start; t < end;) {
    const date = localDate(t, timezone);
    const next = Math.min(end, startOfLocalDay(addDays(date, 1), timezone));
    days.push({ date: isoDate(date), start: t, end: next });
    t = next;
  }
  return { start, end, timezone, days };
}

function isoDate(d: LocalDate): string {
  return `${d.y}-${String(d.m).padStart(2, '0')}-${String(d.d).padStart(2, '0')}`;
}
