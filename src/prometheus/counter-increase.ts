/**
 * The PromQL of exact counter increases over a window: the sidecar's window spend and the
 * report's period figures. Everything is computed per series, then summed by the subject
 * label(s), so two app instances, restarts and series that end are all counted exactly.
 *
 * Let f(t) = last_over_time(counter[gap]) at t: the counter's latest value, kept across scrape
 * gaps shorter than `gap`. Over a window starting at s, spend = f(now) - f(s) + the sum of an
 * event term E at every step t of a grid from s to now. E(t) makes f(t) - f(t - step) + E(t)
 * equal to what was really spent during the step:
 * - the counter went down (an app restarted): E = its last value before the reset, i.e. the
 *   larger of f(t - step) and the highest sample of the step;
 * - the series ended (f(t) absent, f(t - step) present): E = f(t - step), its final value;
 * - otherwise E is absent (no result row), which keeps the answers sparse.
 * A series that first appears inside the window has f(s) absent, so it counts from zero: exactly
 * what `increase()` gets wrong. No user value ever enters a query: the queries are fixed.
 */

/** `counter{selector}` */
export function series(metric: string, selector: string): string {
  return selector.trim() ? `${metric}{${selector}}` : metric;
}

const ms = (n: number) => `${Math.round(n)}ms`;

/** The counter's latest value per subject, at the query's evaluation time. */
export function latestBySubject(counter: string, label: string, gapMs: number): string {
  return `sum by (${label}) (last_over_time(${counter}[${ms(gapMs)}]))`;
}

/** The event term E of a grid with step `stepMs`, summed per subject. */
export function eventsBySubject(
  counter: string,
  label: string,
  gapMs: number,
  stepMs: number,
): string {
  const now = `last_over_time(${counter}[${ms(gapMs)}])`;
  const before = `last_over_time(${counter}[${ms(gapMs)}] offset ${ms(stepMs)})`;
  // Closed range [t - step + 1ms, t]: consecutive steps cover each millisecond once.
  const highest = `max_over_time(${counter}[${ms(stepMs - 1)}])`;
  const reset = `(((${before} >= ${highest}) or ${highest}) and (${now} < ${before}))`;
  const ended = `(${before} unless ${now})`;
  return `sum by (${label}) (${reset} or ${ended})`;
}
