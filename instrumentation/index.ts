export { withAttribution } from './attribution';
export { recordOutcome, recordCacheLookup, type CacheLookup } from './api';
export {
  BudgetExceededError,
  BudgetUnavailableError,
  type BudgetProblem,
  type BudgetUnavailableProblem,
} from './errors';
export { expressMiddleware, budgetErrorHandler, type MiddlewareOptions } from './middleware';
export { LlmFinopsInstrumentation } from './instrumentation';
export { llmFinopsMetricProducer } from './telemetry/producer';
export { llmFinopsViews } from './telemetry/views';
export type {
  Attribution,
  LlmFinopsInstrumentationConfig,
  SidecarFailMode,
  UserIdMode,
} from './types';
