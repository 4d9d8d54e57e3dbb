/**
 * Prometheus 3's default OTLP name translation (`UnderscoreEscapingWithSuffixes`, the
 * prometheus/otlptranslator rules), for the names our OTLP export would get in Prometheus 3.
 * Debian's Prometheus (2.42) has no OTLP receiver, so the test applies the rules to our real
 * OTLP payload instead.
 */

const UNITS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};
const PER_UNITS: Record<string, string> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

export type OtlpMetricType = 'counter' | 'gauge' | 'histogram' | 'non-monotonic-sum';

/** Tokens of a name: runs of [a-zA-Z0-9:]; anything else (dots, underscores) separates. */
function tokens(s: string): string[] {
  return s.split(/[^a-zA-Z0-9:]+/).filter(Boolean);
}

function cleanUnit(u: string): string {
  return u
    .replace(/[^a-zA-Z0-9:]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_/, '');
}

function unitSuffixes(unit: string): [string, string] {
  const [main = '', per] = unit.split('/', 2);
  let mainSuffix = '';
  const m = main.trim();
  if (m && !/[{}]/.test(m)) mainSuffix = UNITS[m] ?? m;
  let perSuffix = '';
  const p = per?.trim();
  if (p && !/[{}]/.test(p)) perSuffix = 'per_' + (PER_UNITS[p] ?? p);
  return [cleanUnit(mainSuffix), cleanUnit(perSuffix)];
}

export function prometheusName(name: string, unit: string, type: OtlpMetricType): string {
  let parts = tokens(name);
  let [main, per] = unitSuffixes(unit);
  if (parts.includes(main)) main = '';
  if (per === 'per_') per = '';
  else {
    per = per.replace(/_$/, '');
    if (parts.includes(per)) per = '';
  }
  if (per) main = main.replace(/_$/, '');
  if (main) parts.push(main);
  if (per) parts.push(per);
  if (type === 'counter') parts = [...parts.filter((t) => t !== 'total'), 'total'];
  if (unit === '1' && type === 'gauge') parts = [...parts.filter((t) => t !== 'ratio'), 'ratio'];
  const joined = parts.join('_');
  return /^\d/.test(joined) ? '_' + joined : joined;
}

/** Label names: invalid characters become underscores. */
export function prometheusLabel(key: string): string {
  const l = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^\d/.test(l) ? 'key_' + l : l;
}
