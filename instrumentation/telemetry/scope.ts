import type { InstrumentationScope } from '@opentelemetry/core';
import { packageVersion } from '../../src/package-info';

/** The instrumentation scope of every span and metric llm-finops makes. */
export function llmFinopsScope(): InstrumentationScope {
  return { name: 'llm-finops', version: packageVersion() };
}
