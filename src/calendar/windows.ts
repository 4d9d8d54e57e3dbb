/** A budget window at one instant: where it started and when it resets. */
export interface WindowSpan {
  /** `day`, `week`, `month` or `<N>h`, as configured. */
  readonly name: string;
  /** Start, ms since epoch (inclusive). */
  readonly start: number;
  /** When the window resets (calendar) or when all of today's spend has left it (rolling). */
  readonly resetsAt: number;
}

const HOUR = 3_600_000;

/**
 * The span of `window` at `now` in time zone `tz`. Calendar windows start at local midnight (ISO
 * weeks on Monday) and end at the next one; a rolling `<N>h` window is the last N hours, and its
 * reset time is when everything spent so far will have left it.
 */
export function windowAt(window: string, now: number, tz: string): WindowSpan {
  const rolling = /^(\d+)h$/.exec(window);
  if (rolling?.[1]) {
    const length = Number(rolling[1]) * HOUR;
    return { name: window, start: now - length, resetsAt: now + length };
  }
  const today = localDate(now, tz);
  let start: LocalDate;
  let next: LocalDate;
  if (window === 'day') {
    start = today;
    next = addDays(today, 1);
  } else if (window === 'week') {
    const sinceMonday = (dayOfWeek(today) + 6) % 7;
    start = addDays(today, -sinceMonday);
    next = addDays(start, 7);
  } else if (window === 'month') {
    start = { y: today.y, m: today.m, d: 1 };
    next = today.m === 12 ? { y: today.y + 1, m: 1, d: 1 } : { y: today.y, m: today.m + 1, d: 1 };
  } else {
    throw new Error(`unknown window ${window}`);
  }
  return { name: window, start: startOfLocalDay(start, tz), resetsAt: startOfLocalDay(next, tz) };
}

/** A calendar date (month 1-12). */
export interface LocalDate {
  y: number;
  m: number;
  d: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Local wall-clock fields of an instant in `tz`. */
function wallClock(t: number, tz: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(t)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return fields;
}

/** The local date of an instant in `tz`. */
export function localDate(t: number, tz: string): LocalDate {
  const f = wallClock(t, tz);
  return { y: f.year ?? 1970, m: f.month ?? 1, d: f.day ?? 1 };
}

/** Offset of `tz` from UTC at instant `t`, in ms (positive east of Greenwich). */
function offsetAt(t: number, tz: string): number {
  const f = wallClock(t, tz);
  const asUtc = Date.UTC(
    f.year ?? 1970,
    (f.month ?? 1) - 1,
    f.day ?? 1,
    f.hour ?? 0,
    f.minute ?? 0,
    f.second ?? 0,
  );
  return asUtc - Math.floor(t / 1000) * 1000;
}

/**
 * The first instant of a local date. Two passes settle the offset across a DST change; where a
 * change skips midnight itself (some zones move 00:00 to 01:00), the day starts at the first
 * instant that exists: the jump.
 */
export function startOfLocalDay(date: LocalDate, tz: string): number {
  const wall = Date.UTC(date.y, date.m - 1, date.d);
  let t = wall - offsetAt(wall, tz);
  t = wall - offsetAt(t, tz);
  const back = localDate(t, tz);
  if (back.y !== date.y || back.m !== date.m || back.d !== date.d) {
    // Midnight did not exist: the day starts at the jump, which is midnight at the old offset.
    t = wall - offsetAt(t - 2 * HOUR, tz);
  }
  return t;
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** 0 = Sunday. */
function dayOfWeek(date: LocalDate): number {
  return new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay();
}
