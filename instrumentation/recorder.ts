import {
  context,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { ATTR } from '../src/contract/attributes';
import { UNKNOWN, type RequestStatus } from '../src/contract/metrics';
import { costOf, promptCacheSavings } from '../src/pricing/cost';
import type { TokenBuckets } from '../src/pricing/types';
import { currentAttribution } from './attribution';
import type { Reservation } from './budget/sidecar';
import { isBudgetRefusal } from './errors';
import { guarded, warnOnce } from './guard';
import type { Runtime } from './runtime';
import type { Attribution } from './types';

/** Why a finished call carries no token counts. */
export type UsageMissing = 'not_reported' | 'aborted' | 'malformed';

/** What is known when a call starts. */
export interface CallStart {
  /** `gen_ai.operation.name`: chat or embeddings. */
  readonly operation: 'chat' | 'embeddings';
  /** Provider from the client's host; undefined when the host is not a known one. */
  readonly provider: string | undefined;
  /** Provider name when neither the host nor the catalog tells (SDK family). */
  readonly fallbackProvider: string;
  readonly requestModel: string;
  readonly stream: boolean;
  readonly maxTokens?: number;
  readonly serverAddress?: string;
  readonly serverPort?: number;
  /** User from the request itself (OpenAI `user`, Anthropic `metadata.user_id`). */
  readonly requestUser?: string;
}

/** What is known when a call ends. */
export interface CallEnd {
  responseModel?: string;
  responseId?: string;
  finishReasons?: string[];
  /** Disjoint token buckets, when the provider reported usable usage. */
  tokens?: TokenBuckets;
  usageMissing?: UsageMissing;
  error?: unknown;
}

/** The span of every call while no span exporter is configured: records nothing, costs nothing. */
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

function errorType(err: unknown): string {
  const status = (err as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number') return String(status);
  if (err instanceof Error) return err.constructor.name || err.name;
  return '_OTHER';
}

/**
 * The semconv attributes of the gen_ai.client.* metrics, one new object per record (series keep
 * the object they were first recorded with). Built key by key: an object spread with a computed
 * key takes V8's slow path, about 1 µs each.
 */
function genAiAttributes(
  start: CallStart,
  provider: string,
  responseModel: string | undefined,
  key?: string,
  value?: string,
): Attributes {
  const attributes: Attributes = {
    [ATTR.operationName]: start.operation,
    [ATTR.providerName]: provider,
    [ATTR.requestModel]: start.requestModel,
  };
  if (responseModel) attributes[ATTR.responseModel] = responseModel;
  if (key && value !== undefined) attributes[key] = value;
  return attributes;
}

/** What a finished call's span is told, gathered while its metrics are recorded. */
interface Outcome {
  readonly result: CallEnd;
  /** Denied by the budget: never sent, so no usage was to be expected. */
  readonly refused: boolean;
  readonly provider: string;
  readonly tier: string;
  errorType?: string;
  cost?: number;
  baseline?: number;
}

/** One instrumented provider call: a CLIENT span plus the contract's metrics when it ends. */
export class LlmCall {
  readonly span: Span;
  private readonly startedAt = performance.now();
  private readonly user: string | undefined;
  private readonly feature: string;
  private ended = false;
  /** Attribution as given (raw user id), for the budget sidecar. */
  readonly attribution: Attribution;
  /** The call's budget reservation (LLM_FINOPS_SIDECAR_URL), settled when the call ends. */
  reservation: Reservation | undefined;

  constructor(
    private readonly runtime: Runtime,
    readonly start: CallStart,
  ) {
    const attribution = currentAttribution();
    this.attribution = attribution;
    const rawUser = attribution.user ?? start.requestUser;
    // `unknown` stays readable in hash mode: it is no one's id.
    this.user =
      rawUser === undefined
        ? runtime.userIds.mode === 'off'
          ? undefined
          : UNKNOWN
        : runtime.userIds.apply(rawUser);
    this.feature = attribution.feature ?? UNKNOWN;
    const telemetry = runtime.telemetry();
    if (!telemetry.tracing) {
      // No span exporter: skip building a span nobody would receive (ids, attributes, context).
      this.span = NO_SPAN;
      return;
    }
    const attributes: Attributes = {
      [ATTR.operationName]: start.operation,
      [ATTR.providerName]: start.provider ?? start.fallbackProvider,
      [ATTR.requestModel]: start.requestModel,
      [ATTR.feature]: this.feature,
    };
    if (this.user !== undefined) attributes[ATTR.userId] = this.user;
    if (attribution.session) attributes[ATTR.sessionId] = attribution.session;
    if (start.stream) attributes[ATTR.requestStream] = true;
    if (start.maxTokens !== undefined) attributes[ATTR.requestMaxTokens] = start.maxTokens;
    if (start.serverAddress) attributes[ATTR.serverAddress] = start.serverAddress;
    if (start.serverPort) attributes[ATTR.serverPort] = start.serverPort;
    this.span = telemetry.tracer.startSpan(`${start.operation} ${start.requestModel}`, {
      kind: SpanKind.CLIENT,
      attributes,
    });
  }

  /** Runs the SDK call with our span active, so HTTP spans below it nest under it. */
  runInSpan<T>(fn: () => T): T {
    if (this.span === NO_SPAN) return fn();
    return context.with(trace.setSpan(context.active(), this.span), fn);
  }

  /** Records the call's metrics, ends its span and settles its reservation; only the first call counts. */
  end(result: CallEnd): void {
    if (this.ended) return;
    this.ended = true;
    const cost = guarded('record', () => this.record(result));
    if (this.reservation) this.reservation.settle(cost ?? 0);
  }

  /** Returns the call's cost in USD (0 when unpriced or without usage). */
  private record(result: CallEnd): number {
    const { instruments } = this.runtime.telemetry();
    const { start } = this;
    const prices = this.runtime.prices;
    const { responseModel, error } = result;
    const price =
      (responseModel !== undefined ? prices.resolve(responseModel) : undefined) ??
      prices.resolve(start.requestModel);
    const provider = start.provider ?? price?.provider ?? start.fallbackProvider;
    const model = price?.key ?? responseModel ?? start.requestModel;
    const tier = price?.tier ?? UNKNOWN;
    const feature = this.feature;
    const refused = isBudgetRefusal(error);
    const status: RequestStatus = error === undefined ? 'ok' : refused ? 'denied' : 'error';
    const seconds = (performance.now() - this.startedAt) / 1000;
    const outcome: Outcome = { result, refused, provider, tier };

    instruments.requests.add(1, { provider, model, tier, feature, status });
    if (refused) {
      // Never sent: no provider operation to time, no request of the user's, no cost.
      outcome.errorType = error.name;
      this.endSpan(outcome);
      return 0;
    }
    // One object for both per-user series: they keep it as their attributes.
    const byUser = this.user === undefined ? undefined : { user: this.user, feature };
    if (byUser) instruments.userRequests.add(1, byUser);
    if (error !== undefined) outcome.errorType = errorType(error);
    instruments.operationDuration.record(
      seconds,
      genAiAttributes(start, provider, responseModel, ATTR.errorType, outcome.errorType),
    );

    const t = result.tokens;
    if (!t) {
      this.endSpan(outcome);
      return 0;
    }
    const embeddings = start.operation === 'embeddings';
    instruments.tokenUsage.record(
      t.input + t.cacheRead + t.cacheWrite,
      genAiAttributes(start, provider, responseModel, ATTR.tokenType, 'input'),
    );
    if (!embeddings) {
      instruments.tokenUsage.record(
        t.output + t.reasoning,
        genAiAttributes(start, provider, responseModel, ATTR.tokenType, 'output'),
      );
    }
    const tokens = instruments.tokens;
    tokens.add(t.input, { provider, model, feature, type: 'input' });
    if (!embeddings) tokens.add(t.output, { provider, model, feature, type: 'output' });
    if (t.cacheRead) tokens.add(t.cacheRead, { provider, model, feature, type: 'cache_read' });
    if (t.cacheWrite) tokens.add(t.cacheWrite, { provider, model, feature, type: 'cache_write' });
    if (t.reasoning) tokens.add(t.reasoning, { provider, model, feature, type: 'reasoning' });

    if (!price) {
      instruments.unpricedRequests.add(1, { provider, model });
      warnOnce(
        `unpriced:${model}`,
        `no price for model "${model}" (${provider}): its calls are counted in llm_unpriced_requests_total, not priced at $0. Add it with LLM_FINOPS_PRICING_FILE.`,
      );
      this.endSpan(outcome);
      return 0;
    }
    const cost = costOf(price, t);
    const baseline = costOf(prices.baseline, t);
    const byModel = { provider, model, tier, feature };
    instruments.cost.add(cost, byModel);
    instruments.baselineCost.add(baseline, byModel);
    instruments.requestCost.record(cost, { provider, model, feature });
    if (byUser) instruments.userCost.add(cost, byUser);
    const saved = promptCacheSavings(price, t);
    if (saved > 0)
      instruments.cacheSavings.add(saved, { provider, model, feature, cache: 'prompt' });
    outcome.cost = cost;
    outcome.baseline = baseline;
    this.endSpan(outcome);
    return cost;
  }

  /** Sets the attributes known at the end, in one call, and ends the span; nothing if it records nothing. */
  private endSpan(o: Outcome): void {
    const { span } = this;
    if (!span.isRecording()) return;
    const { result } = o;
    const ended: Attributes = { [ATTR.modelTier]: o.tier };
    // Known better now (from the catalog) when the client's host did not tell.
    if (o.provider !== (this.start.provider ?? this.start.fallbackProvider))
      ended[ATTR.providerName] = o.provider;
    if (result.responseModel) ended[ATTR.responseModel] = result.responseModel;
    if (result.responseId) ended[ATTR.responseId] = result.responseId;
    if (result.finishReasons?.length) ended[ATTR.finishReasons] = result.finishReasons;
    const { error } = result;
    if (o.errorType !== undefined) {
      ended[ATTR.errorType] = o.errorType;
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : undefined,
      });
    }
    const t = result.tokens;
    if (!t && !o.refused) ended[ATTR.usageMissing] = result.usageMissing ?? 'not_reported';
    if (t) {
      ended[ATTR.inputTokens] = t.input + t.cacheRead + t.cacheWrite;
      // Semconv's embeddings span has input tokens only: an embedding generates none.
      if (this.start.operation !== 'embeddings') {
        ended[ATTR.outputTokens] = t.output + t.reasoning;
        ended[ATTR.cacheReadTokens] = t.cacheRead;
        ended[ATTR.cacheCreationTokens] = t.cacheWrite;
        ended[ATTR.reasoningTokens] = t.reasoning;
      }
      if (o.cost === undefined) ended[ATTR.unpriced] = true;
    }
    if (o.cost !== undefined) {
      ended[ATTR.costAmount] = o.cost;
      ended[ATTR.costCurrency] = 'USD';
      ended[ATTR.costSource] = 'local';
      ended[ATTR.baselineAmount] = o.baseline!;
    }
    span.setAttributes(ended);
    span.end();
  }
}
