/** The figures of the ROI statement. */
export interface RoiFigures {
  readonly requests: number;
  readonly baselineUsd: number;
  readonly costUsd: number;
  /** (baseline - cost) / baseline, null without a baseline. */
  readonly savingsRatio: number | null;
  readonly baselineModel: string;
}

/**
 * "We processed 2M requests, would have cost $12,000 at gpt-4 rates, actually cost $1,800 — 85%
 * savings." Rounded for reading: the exact figures are in the report's other sections.
 */
export function roiStatement(f: RoiFigures): string {
  const head = `We processed ${count(f.requests)} requests, would have cost ${usd(f.baselineUsd)} at ${f.baselineModel} rates, actually cost ${usd(f.costUsd)}`;
  if (f.savingsRatio === null) return `${head}.`;
  return f.savingsRatio >= 0
    ? `${head} — ${percent(f.savingsRatio)} savings.`
    : `${head} — ${percent(-f.savingsRatio)} more than the baseline.`;
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 950, 12,345, 2M, 1.3B. */
export function count(n: number): string {
  return Math.abs(n) >= 1_000_000 ? compact.format(n) : whole.format(n);
}

/** $12,000 from $100, $18.42 from 1 cent, $0.0042 below. */
export function usd(n: number): string {
  const a = Math.abs(n);
  const digits = a >= 100 ? 0 : a >= 0.01 || a === 0 ? 2 : 4;
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(n);
}

/** 85%, 7.5%. */
export function percent(ratio: number): string {
  const p = ratio * 100;
  return `${Math.abs(p) >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;
}
