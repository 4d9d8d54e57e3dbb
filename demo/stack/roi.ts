import { promQuery } from './prometheus';

/** The ROI figures of a run, read from Prometheus at one evaluation time. */
export interface RoiFigures {
  /** Seconds since the epoch: every figure is an instant query at this time. */
  evaluationTime: number;
  baselineModel: string;
  /** LLM calls that succeeded (llm_requests_total{status="ok"}). */
  requests: number;
  costUsd: number;
  baselineCostUsd: number;
  /** 1 - cost / baseline, in percent. */
  savingsPercent: number;
  /** Saved by the provider's prompt cache and the app's response cache. */
  cacheSavingsUsd: number;
  responseCacheSavingsUsd: number;
  /** LLM calls refused by budget enforcement (llm_requests_total{status="denied"}). */
  deniedCalls: number;
}

/** The PromQL of each figure: counters are totals since the app started, read as they are. */
export const ROI_QUERIES = {
  requests: 'sum(llm_requests_total{status="ok"})',
  costUsd: 'sum(llm_cost_usd_total)',
  baselineCostUsd: 'sum(llm_baseline_cost_usd_total)',
  cacheSavingsUsd: 'sum(llm_cache_savings_usd_total)',
  responseCacheSavingsUsd: 'sum(llm_cache_savings_usd_total{cache="response"})',
  deniedCalls: 'sum(llm_requests_total{status="denied"})',
} as const;

export async function roiAt(
  prometheusUrl: string,
  time: number,
  baselineModel: string,
): Promise<RoiFigures> {
  const value = async (expr: string) => (await promQuery(prometheusUrl, expr, time))[0]?.value ?? 0;
  const [requests, costUsd, baselineCostUsd, cacheSavingsUsd, responseCacheSavingsUsd, denied] =
    await Promise.all(Object.values(ROI_QUERIES).map(value));
  return {
    evaluationTime: time,
    baselineModel,
    requests: requests!,
    costUsd: costUsd!,
    baselineCostUsd: baselineCostUsd!,
    savingsPercent: baselineCostUsd ? (1 - costUsd! / baselineCostUsd) * 100 : 0,
    cacheSavingsUsd: cacheSavingsUsd!,
    responseCacheSavingsUsd: responseCacheSavingsUsd!,
    deniedCalls: denied!,
  };
}

/** Dollars to the micro-dollar, the precision the demo's figures are checked at. */
export const usd = (n: number): string => `$${n.toFixed(6)}`;

/** "N requests, would have cost $X at <baseline> rates, actually cost $Y — Z% savings". */
export function roiStatement(r: RoiFigures): string {
  return (
    `${r.requests} requests, would have cost ${usd(r.baselineCostUsd)} at ${r.baselineModel} ` +
    `rates, actually cost ${usd(r.costUsd)} — ${r.savingsPercent.toFixed(1)}% savings`
  );
}

/** The cache part of the statement (the prompt-cache part when the provider reported any). */
export function cacheStatement(r: RoiFigures): string {
  const prompt = r.cacheSavingsUsd - r.responseCacheSavingsUsd;
  return (
    `Caching saved another ${usd(r.cacheSavingsUsd)} (response cache ` +
    `${usd(r.responseCacheSavingsUsd)}${prompt > 0 ? `, provider prompt cache ${usd(prompt)}` : ''}).`
  );
}
