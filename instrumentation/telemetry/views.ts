import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import { METRICS, PER_USER_METRICS, USER_CARDINALITY_LIMIT } from '../../src/contract/metrics';

/** Limit for the other llm.* instruments: features × models × tiers × statuses stays well below. */
const DEFAULT_LLM_CARDINALITY_LIMIT = 20_000;

/**
 * Views that raise the SDK's default cardinality limit (2000 attribute sets per instrument) for
 * our instruments, so that per-user spend never collapses into the overflow series. Apps that
 * bring their own MeterProvider pass these in its `views`.
 */
export function llmFinopsViews(): ViewOptions[] {
  return Object.entries(METRICS).map(([key, spec]) => ({
    instrumentName: spec.otelName,
    aggregationCardinalityLimit: (PER_USER_METRICS as string[]).includes(key)
      ? USER_CARDINALITY_LIMIT
      : DEFAULT_LLM_CARDINALITY_LIMIT,
  }));
}
