import type { LlmCall } from '../recorder';
import { isSdkStream, observeStream } from '../stream';
import { intParam, strParam, type Planner } from './call';
import { endpointOf } from './endpoint';
import { anthropicUsage } from './usage';

type Body = Record<string, unknown>;

function end(
  call: LlmCall,
  message: Body | undefined,
  usage: unknown,
  error?: unknown,
  aborted = false,
): void {
  const normalised = anthropicUsage(usage);
  const stop = strParam(message?.stop_reason);
  call.end({
    responseModel: strParam(message?.model),
    responseId: strParam(message?.id),
    finishReasons: stop ? [stop] : undefined,
    tokens: normalised.tokens,
    usageMissing: normalised.tokens
      ? undefined
      : aborted || error !== undefined
        ? 'aborted'
        : normalised.missing,
    error,
  });
}

/**
 * `messages.create`, plain and streaming. `messages.stream()` and the beta stream helpers call
 * `create` with `stream: true` themselves, so they are covered here without being wrapped twice.
 */
const messagesPlanner: Planner = (self, args, runtime) => {
  const body = args[0] as Body | undefined;
  if (!body || typeof body !== 'object') return undefined;
  const endpoint = endpointOf(self._client, runtime.config.providerHosts ?? {});
  return {
    start: {
      operation: 'chat',
      provider: endpoint.provider,
      fallbackProvider: 'anthropic',
      requestModel: strParam(body.model) ?? 'unknown',
      stream: body.stream === true,
      maxTokens: intParam(body.max_tokens),
      serverAddress: endpoint.address,
      serverPort: endpoint.port,
      requestUser: strParam((body.metadata as Body | undefined)?.user_id),
    },
    observe(value, call) {
      if (!isSdkStream(value)) {
        const message = value as Body;
        end(call, message, message.usage);
        return;
      }
      let message: Body | undefined;
      let usage: Body | undefined;
      observeStream(value, {
        onItem(item) {
          const event = item as { type?: string; message?: Body; usage?: Body };
          if (event.type === 'message_start' && event.message) {
            message = event.message;
            usage = { ...(event.message.usage as Body | undefined) };
          } else if (event.type === 'message_delta' && event.usage) {
            // Delta usage is cumulative: its fields replace those of message_start.
            usage = { ...usage, ...definedFields(event.usage) };
            const delta = (event as { delta?: Body }).delta;
            if (message && delta?.stop_reason)
              message = { ...message, stop_reason: delta.stop_reason };
          }
          return true;
        },
        onEnd(error, aborted) {
          end(call, message, usage, error, aborted);
        },
      });
    },
  };
};

function definedFields(o: Body): Body {
  const out: Body = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

interface AnthropicClass {
  Messages?: { prototype: object };
  Beta?: { Messages?: { prototype: object } };
}

/** The `@anthropic-ai/sdk` prototypes whose `create` we wrap. */
export function anthropicTargets(moduleExports: unknown): [object | undefined, Planner][] {
  const mod = moduleExports as { Anthropic?: AnthropicClass; default?: AnthropicClass };
  const Anthropic = mod.Anthropic ?? mod.default;
  return [
    [Anthropic?.Messages?.prototype, messagesPlanner],
    [Anthropic?.Beta?.Messages?.prototype, messagesPlanner],
  ];
}
