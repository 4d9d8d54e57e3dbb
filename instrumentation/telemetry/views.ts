import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import { cardinalityLimit, METRICS, type MetricKey } from '../../src/contract/metrics';

/**
 * Views that raise the SDK's default cardinality limit (2000 attribute sets per instrument) for
 * our instruments, so that per-user spend never collapses into the overflow series. Apps that
 * bring their own MeterProvider pass these in its `views`.
 */
export function llmFinopsViews(): ViewOptions[] {
  return (Object.keys(METRICS) as MetricKey[]).map((key) => ({
    instrumentName: METRICS[key].otelName,
    aggregationCardinalityLimit: cardinalityLimit(key),
  }));
}
