import type { LlmCall } from '../recorder';
import { isSdkStream, observeStream } from '../stream';
import { intParam, strParam, type CallPlan, type Planner } from './call';
import { endpointOf } from './endpoint';
import { openAIChatUsage, openAIResponsesUsage, type NormalisedUsage } from './usage';

type Body = Record<string, unknown>;

function startOf(
  self: { _client?: object },
  body: Body,
  operation: 'chat' | 'embeddings',
  runtime: Parameters<Planner>[2],
) {
  const endpoint = endpointOf(self._client, runtime.config.providerHosts ?? {});
  const isAzure = self._client?.constructor.name === 'AzureOpenAI';
  return {
    operation,
    provider: endpoint.provider ?? (isAzure ? 'azure.ai.openai' : undefined),
    fallbackProvider: 'openai',
    requestModel: strParam(body.model) ?? 'unknown',
    stream: body.stream === true,
    maxTokens:
      intParam(body.max_completion_tokens) ??
      intParam(body.max_tokens) ??
      intParam(body.max_output_tokens),
    serverAddress: endpoint.address,
    serverPort: endpoint.port,
    requestUser: strParam(body.user) ?? strParam(body.safety_identifier),
  };
}

function endWith(
  call: LlmCall,
  usage: NormalisedUsage,
  fields: { model?: unknown; id?: unknown; finish?: string[] },
  error?: unknown,
  aborted = false,
): void {
  call.end({
    responseModel: strParam(fields.model),
    responseId: strParam(fields.id),
    finishReasons: fields.finish,
    tokens: usage.tokens,
    usageMissing: usage.tokens
      ? undefined
      : aborted || error !== undefined
        ? 'aborted'
        : usage.missing,
    error,
  });
}

interface ChatChoice {
  index?: number;
  finish_reason?: string | null;
}

function finishReasons(choices: unknown): string[] | undefined {
  if (!Array.isArray(choices)) return undefined;
  const reasons = (choices as ChatChoice[])
    .map((c) => c.finish_reason)
    .filter((r): r is string => typeof r === 'string');
  return reasons.length ? reasons : undefined;
}

const chatPlanner: Planner = (self, args, runtime) => {
  const body = args[0] as Body | undefined;
  if (!body || typeof body !== 'object') return undefined;
  const start = startOf(self, body, 'chat', runtime);
  const options = body.stream_options as Body | undefined;
  // Streams report usage only when asked; we ask and hide the answer unless the caller asked too.
  const inject =
    start.stream && runtime.config.injectStreamUsage !== false && options?.include_usage !== true;
  const plan: CallPlan = {
    start,
    args: inject
      ? [{ ...body, stream_options: { ...options, include_usage: true } }, ...args.slice(1)]
      : undefined,
    observe(value, call) {
      if (isSdkStream(value)) {
        observeStream(value, chatStreamObserver(call, inject));
        return;
      }
      const v = value as Body;
      endWith(call, openAIChatUsage(v.usage), {
        model: v.model,
        id: v.id,
        finish: finishReasons(v.choices),
      });
    },
  };
  return plan;
};

function chatStreamObserver(call: LlmCall, injected: boolean) {
  let model: unknown;
  let id: unknown;
  let usage: unknown;
  const finish: string[] = [];
  return {
    onItem(item: unknown): boolean {
      const chunk = item as Body;
      if (model === undefined) {
        model = chunk.model;
        id = chunk.id;
      }
      const choices = chunk.choices as ChatChoice[] | undefined;
      if (choices) {
        for (let i = 0; i < choices.length; i++) {
          const reason = choices[i]?.finish_reason;
          if (reason) finish.push(reason);
        }
      }
      if (chunk.usage) {
        usage = chunk.usage;
        // The usage-only chunk exists because we asked for it: the caller never sees it.
        if (injected && choices?.length === 0) return false;
      }
      if (injected && 'usage' in chunk) delete chunk.usage;
      return true;
    },
    onEnd(error: unknown, aborted: boolean): void {
      endWith(
        call,
        openAIChatUsage(usage),
        { model, id, finish: finish.length ? finish : undefined },
        error,
        aborted,
      );
    },
  };
}

const responsesPlanner: Planner = (self, args, runtime) => {
  const body = args[0] as Body | undefined;
  if (!body || typeof body !== 'object') return undefined;
  return {
    start: startOf(self, body, 'chat', runtime),
    observe(value, call) {
      if (isSdkStream(value)) {
        let response: Body | undefined;
        observeStream(value, {
          onItem(item) {
            const event = item as { type?: string; response?: Body };
            // created/in_progress carry the model; completed/incomplete/failed the usage.
            if (event.response) response = event.response;
            return true;
          },
          onEnd(error, aborted) {
            endWith(
              call,
              openAIResponsesUsage(response?.usage),
              responseFields(response),
              error,
              aborted,
            );
          },
        });
        return;
      }
      const v = value as Body;
      endWith(call, openAIResponsesUsage(v.usage), responseFields(v));
    },
  };
};

function responseFields(r: Body | undefined) {
  const status = strParam(r?.status);
  return { model: r?.model, id: r?.id, finish: status ? [status] : undefined };
}

const embeddingsPlanner: Planner = (self, args, runtime) => {
  const body = args[0] as Body | undefined;
  if (!body || typeof body !== 'object') return undefined;
  return {
    start: startOf(self, body, 'embeddings', runtime),
    observe(value, call) {
      const v = value as Body;
      endWith(call, openAIChatUsage(v.usage), { model: v.model });
    },
  };
};

interface OpenAIExports {
  OpenAI?: OpenAIClass;
  default?: OpenAIClass;
}
interface OpenAIClass {
  Chat?: { Completions?: { prototype: object } };
  Responses?: { prototype: object };
  Embeddings?: { prototype: object };
}

/** The `openai` module's resource prototypes whose `create` we wrap (v4 to v6). */
export function openAITargets(moduleExports: unknown): [object | undefined, Planner][] {
  const mod = moduleExports as OpenAIExports;
  const OpenAI = mod.OpenAI ?? mod.default;
  return [
    [OpenAI?.Chat?.Completions?.prototype, chatPlanner],
    [OpenAI?.Responses?.prototype, responsesPlanner],
    [OpenAI?.Embeddings?.prototype, embeddingsPlanner],
  ];
}
