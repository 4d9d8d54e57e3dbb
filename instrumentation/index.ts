export { withAttribution } from './attribution';
export { recordOutcome, recordCacheLookup, type CacheLookup } from './api';
export { BudgetExceededError, type BudgetProblem } from './errors';
export { expressMiddleware, budgetErrorHandler, type MiddlewareOptions } from './middleware';
export { LlmFinopsInstrumentation } from './instrumentation';
export { llmFinopsViews } from './telemetry/views';
export type { Attribution, LlmFinopsInstrumentationConfig, UserIdMode } from './types';
