import { describe, expect, it } from 'vitest';
import { windowAt } from '../src/calendar/windows';

const at = (iso: string) => Date.parse(iso);
const span = (w: string, now: string, tz: string) => {
  const s = windowAt(w, at(now), tz);
  return [new Date(s.start).toISOString(), new Date(s.resetsAt).toISOString()];
};

describe('budget windows', () => {
  it('calendar month in UTC', () => {
    expect(span('month', '2026-12-03T16:00:00Z', 'UTC')).toEqual([
      '2026-12-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
    ]);
  });
  it('month boundary in a zone east of UTC: 23:30 UTC on Nov 30 is already December in Paris', () => {
    expect(span('month', '2026-11-30T23:30:00Z', 'Europe/Paris')).toEqual([
      '2026-11-30T23:00:00.000Z',
      '2026-12-31T23:00:00.000Z',
    ]);
    expect(span('month', '2026-11-30T22:59:59Z', 'Europe/Paris')[0]).toBe(
      '2026-10-31T23:00:00.000Z',
    );
  });
  it('ISO week starts on Monday, local midnight', () => {
    // Thursday 3 Dec 2026; Monday is 30 Nov.
    expect(span('week', '2026-12-03T16:00:00Z', 'America/New_York')).toEqual([
      '2026-11-30T05:00:00.000Z',
      '2026-12-07T05:00:00.000Z',
    ]);
    // A Sunday evening belongs to the week that started six days before.
    expect(span('week', '2026-12-06T23:00:00Z', 'UTC')[0]).toBe('2026-11-30T00:00:00.000Z');
  });
  it('a day across a DST change is 23 hours long', () => {
    expect(span('day', '2026-03-08T12:00:00Z', 'America/New_York')).toEqual([
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
    ]);
  });
  it('zones with quarter-hour offsets', () => {
    expect(span('day', '2026-12-03T20:00:00Z', 'Asia/Kathmandu')).toEqual([
      '2026-12-03T18:15:00.000Z',
      '2026-12-04T18:15:00.000Z',
    ]);
  });
  it('a zone where DST skips midnight starts the day at the first instant that exists', () => {
    // Chile moves 00:00 to 01:00 on 6 Sep 2026: the day starts at 01:00 local = 04:00 UTC.
    expect(span('day', '2026-09-06T12:00:00Z', 'America/Santiago')[0]).toBe(
      '2026-09-06T04:00:00.000Z',
    );
  });
  it('rolling windows are the last N hours', () => {
    expect(span('24h', '2026-12-03T16:00:00Z', 'UTC')).toEqual([
      '2026-12-02T16:00:00.000Z',
      '2026-12-04T16:00:00.000Z',
    ]);
  });
});
