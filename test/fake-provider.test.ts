/**
 * The fake provider, exercised through the real SDK clients: synthetic answers, scripted
 * usage, streams with and without usage, every recording replayed, errors and aborts.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import OpenAIv4 from 'openai-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  type FakeProvider,
  listRecordings,
  loadRecording,
  resolveRecordingsDir,
  splitSseEvents,
  startFakeProvider,
} from '../demo/fake-provider';

type AnthropicAPIError = InstanceType<typeof Anthropic.APIError>;

let fake: FakeProvider;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  fake = await startFakeProvider();
  openai = new OpenAI({ apiKey: 'test', baseURL: fake.openaiBaseURL, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'test', baseURL: fake.anthropicBaseURL, maxRetries: 0 });
});

afterEach(() => {
  expect(fake.pendingReplies).toBe(0);
  fake.reset();
});

afterAll(async () => {
  await fake.close();
});

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe('synthetic OpenAI Chat Completions', () => {
  it('answers a plain call with the recorded shape, estimated usage and the request model', async () => {
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello there, fake provider!' }],
      max_tokens: 10,
    });
    expect(completion.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o-mini');
    expect(completion.choices[0]?.message.content).toBe(
      'This is a synthetic answer from the llm-finops fake provider.',
    );
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    // 27 characters of prompt → ceil(27 / 4) = 7; output capped by max_tokens.
    expect(completion.usage).toEqual({
      prompt_tokens: 7,
      completion_tokens: 10,
      total_tokens: 17,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });
    expect(completion._request_id).toMatch(/^req_[0-9a-f]{32}$/);

    const [req] = fake.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/v1/chat/completions');
    expect(req?.route).toBe('chat.completions');
    expect(req?.headers.authorization).toBe('Bearer test');
    expect(req?.body?.model).toBe('gpt-4o-mini');
    expect(typeof req?.time).toBe('number');
  });

  it('uses a scripted usage patch, model and content, recomputing the total', async () => {
    fake.enqueue({
      model: 'o4-mini-2025-04-16',
      content: 'Scripted.',
      usage: {
        prompt_tokens: 1500,
        completion_tokens: 300,
        prompt_tokens_details: { cached_tokens: 1024 },
        completion_tokens_details: { reasoning_tokens: 256 },
      },
    });
    const completion = await openai.chat.completions.create({
      model: 'o4-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.model).toBe('o4-mini-2025-04-16');
    expect(completion.choices[0]?.message.content).toBe('Scripted.');
    expect(completion.usage?.total_tokens).toBe(1800);
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(1024);
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(256);
  });

  it('streams without usage unless stream_options.include_usage is set', async () => {
    const chunks = await collect(
      await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'stream please' }],
        stream: true,
      }),
    );
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect('usage' in chunk).toBe(false);
    }
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      'This is a synthetic answer from the llm-finops fake provider.',
    );
  });

  it('sends usage:null on every chunk and a final choices:[] usage chunk when asked', async () => {
    fake.enqueue({ chunks: 200, usage: { prompt_tokens_details: { cached_tokens: 3 } } });
    const chunks = await collect(
      await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'stream please' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    // role chunk + 200 content deltas + finish chunk + usage chunk
    expect(chunks).toHaveLength(203);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({
      prompt_tokens: 4,
      completion_tokens: 32,
      total_tokens: 36,
      prompt_tokens_details: { cached_tokens: 3 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    const deltas = chunks.filter((c) => typeof c.choices[0]?.delta.content === 'string');
    expect(deltas).toHaveLength(201); // the role chunk carries content ""
  });

  it('streams through openai v4 (node-fetch) with the usage chunk', async () => {
    const v4 = new OpenAIv4({ apiKey: 'test', baseURL: fake.openaiBaseURL, maxRetries: 0 });
    const stream = await v4.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'from v4' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    expect(chunks.at(-1)?.usage?.prompt_tokens).toBe(2);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(32);
  });

  it('maps the response model with the responseModel option', async () => {
    const snapshots = await startFakeProvider({
      responseModel: (model) => (model === 'gpt-4o-mini' ? 'gpt-4o-mini-2024-07-18' : model),
    });
    try {
      const client = new OpenAI({ apiKey: 'test', baseURL: snapshots.openaiBaseURL });
      const completion = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(completion.model).toBe('gpt-4o-mini-2024-07-18');
    } finally {
      await snapshots.close();
    }
  });

  it('sends a malformed usage block when asked', async () => {
    fake.enqueue({ malformedUsage: true });
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    const usage = completion.usage as unknown as Record<string, unknown>;
    expect(usage.prompt_tokens).toBe('22');
    expect(usage.completion_tokens).toBe(-3);
    expect('total_tokens' in usage).toBe(false);
  });
});

describe('synthetic OpenAI Responses and Embeddings', () => {
  it('answers a plain Responses call with Responses-shaped usage', async () => {
    fake.enqueue({
      usage: { input_tokens_details: { cached_tokens: 2048 }, input_tokens: 4096 },
      content: 'Done.',
    });
    const response = await openai.responses.create({
      model: 'gpt-4.1',
      input: 'Summarise the quarterly spend.',
      instructions: 'Be brief.',
      max_output_tokens: 20,
    });
    expect(response.id).toMatch(/^resp_[0-9a-f]{50}$/);
    expect(response.object).toBe('response');
    expect(response.model).toBe('gpt-4.1');
    expect(response.output_text).toBe('Done.');
    expect(response.instructions).toBe('Be brief.');
    expect(response.usage).toEqual({
      input_tokens: 4096,
      input_tokens_details: { cached_tokens: 2048 },
      output_tokens: 20,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 4116,
    });
  });

  it('streams the recorded Responses event sequence with usage on response.completed', async () => {
    fake.enqueue({ chunks: 5, usage: { output_tokens_details: { reasoning_tokens: 7 } } });
    const events = await collect(
      await openai.responses.create({ model: 'gpt-4o-mini', input: 'Write a poem', stream: true }),
    );
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array<string>(5).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const created = events[0];
    expect(created?.type === 'response.created' && created.response.usage).toBeNull();
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('no response.completed');
    expect(completed.response.usage).toEqual({
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 32,
      output_tokens_details: { reasoning_tokens: 7 },
      total_tokens: 35,
    });
  });

  it('is accepted by the SDK Responses stream helper', async () => {
    const final = await openai.responses
      .stream({ model: 'gpt-4o-mini', input: 'helper' })
      .finalResponse();
    expect(final.output_text).toBe('This is a synthetic answer from the llm-finops fake provider.');
    expect(final.usage?.total_tokens).toBe(2 + 32);
  });

  it('answers embeddings in the base64 encoding the SDK asks for by default', async () => {
    const result = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['One fish', 'two fish', 'red fish', 'blue fish'],
    });
    expect(fake.requests[0]?.body?.encoding_format).toBe('base64');
    expect(result.data).toHaveLength(4);
    expect(result.data[0]?.embedding).toHaveLength(1536);
    expect(result.model).toBe('text-embedding-3-small');
    // ceil(chars / 4) per input: 2 + 2 + 2 + 3 (the real API says 8)
    expect(result.usage).toEqual({ prompt_tokens: 9, total_tokens: 9 });
  });

  it('answers float embeddings with the requested dimensions', async () => {
    const result = await openai.embeddings.create({
      model: 'text-embedding-3-large',
      input: 'hello world',
      encoding_format: 'float',
      dimensions: 256,
    });
    expect(result.data[0]?.embedding).toHaveLength(256);
    expect(result.usage.prompt_tokens).toBe(3);
  });
});

describe('synthetic Anthropic Messages', () => {
  it('answers a plain call with cache fields and service_tier', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'Tell me a joke about OpenTelemetry' }],
    });
    expect(message.id).toMatch(/^msg_01[A-Za-z0-9]{22}$/);
    expect(message.type).toBe('message');
    expect(message.model).toBe('claude-sonnet-4-5');
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content).toEqual([
      { type: 'text', text: 'This is a synthetic answer from the llm-finops fake provider.' },
    ]);
    // (14 + 34) characters → 12 tokens
    expect(message.usage).toEqual({
      input_tokens: 12,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: 32,
      service_tier: 'standard',
    });
    expect(message._request_id).toMatch(/^req_011C[A-Za-z0-9]{20}$/);
  });

  it('sends a thinking block with a signature when the request enables thinking', async () => {
    const message = await anthropic.beta.messages.create({
      model: 'claude-opus-4-1',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      betas: ['interleaved-thinking-2025-05-14'],
      messages: [{ role: 'user', content: 'What is 2+2?' }],
    });
    expect(fake.requests[0]?.pathname).toBe('/v1/messages');
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    const thinking = message.content[0];
    expect(thinking?.type === 'thinking' && thinking.signature.length).toBeGreaterThan(0);
  });

  it('streams with stream: true: message_start usage and message_delta output_tokens', async () => {
    fake.enqueue({ chunks: 3, usage: { cache_read_input_tokens: 900, output_tokens: 40 } });
    const events = await collect(
      await anthropic.messages.create({
        model: 'claude-3-5-haiku-latest',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
    );
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const start = events[0];
    if (start?.type !== 'message_start') throw new Error('no message_start');
    expect(start.message.usage).toMatchObject({
      input_tokens: 1,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 900,
      output_tokens: 1,
    });
    const delta = events[6];
    if (delta?.type !== 'message_delta') throw new Error('no message_delta');
    expect(delta.usage).toEqual({ output_tokens: 40 });
  });

  it('gives messages.stream().finalMessage() the cache tokens', async () => {
    fake.enqueue({
      chunks: 20,
      usage: {
        input_tokens: 50,
        cache_read_input_tokens: 2000,
        cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 200 },
        output_tokens: 75,
      },
    });
    const stream = anthropic.messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 512,
      messages: [{ role: 'user', content: 'cache me' }],
    });
    const message = await stream.finalMessage();
    expect(message.usage).toMatchObject({
      input_tokens: 50,
      cache_creation_input_tokens: 500,
      cache_read_input_tokens: 2000,
      cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 200 },
      output_tokens: 75,
    });
    expect(message.content[0]?.type === 'text' && message.content[0].text).toContain('Synthetic');
  });

  it('can send cumulative message_delta usage like newer API versions', async () => {
    fake.enqueue({ anthropicDeltaUsage: 'cumulative', usage: { cache_creation_input_tokens: 64 } });
    const events = await collect(
      await anthropic.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      }),
    );
    const delta = events.find((e) => e.type === 'message_delta');
    expect(delta?.type === 'message_delta' && delta.usage).toEqual({
      input_tokens: 1,
      cache_creation_input_tokens: 64,
      cache_read_input_tokens: 0,
      output_tokens: 16,
    });
  });
});

/** The usage values the recordings README lists, read through the matching real client. */
const REPLAY_CHECKS: Record<string, (body: Record<string, unknown>) => Promise<void>> = {
  'openai-chat-completion': async (body) => {
    const completion = await openai.chat.completions.create(
      body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
    );
    expect(completion.usage).toMatchObject({
      prompt_tokens: 22,
      completion_tokens: 3,
      total_tokens: 25,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });
    expect(completion.model).toBe('gpt-4o-mini-2024-07-18');
  },
  'openai-chat-completion-tool-calls': async (body) => {
    const completion = await openai.chat.completions.create(
      body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
    );
    expect(completion.usage).toMatchObject({
      prompt_tokens: 57,
      completion_tokens: 46,
      total_tokens: 103,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]?.message.tool_calls).toHaveLength(2);
  },
  'openai-chat-stream-usage': async (body) => {
    const chunks = await collect(
      await openai.chat.completions.create(
        body as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
      ),
    );
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toMatchObject({
      prompt_tokens: 22,
      completion_tokens: 4,
      total_tokens: 26,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  },
  'openai-chat-stream-no-usage': async (body) => {
    const chunks = await collect(
      await openai.chat.completions.create(
        body as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
      ),
    );
    expect(chunks).toHaveLength(5);
    for (const chunk of chunks) expect('usage' in chunk).toBe(false);
  },
  'openai-chat-stream-tool-calls': async (body) => {
    const chunks = await collect(
      await openai.chat.completions.create(
        body as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
      ),
    );
    for (const chunk of chunks) expect('usage' in chunk).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
    const starts = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).filter((t) => t.id);
    expect(starts).toHaveLength(2);
  },
  'openai-embeddings': async (body) => {
    const result = await openai.embeddings.create(body as unknown as OpenAI.EmbeddingCreateParams);
    expect(result.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
    expect(result.data).toHaveLength(4);
    for (const item of result.data) expect(item.embedding).toHaveLength(1536);
    expect(result.data[0]?.embedding[0]).toBe(-0.00005145201);
  },
  'openai-responses': async (body) => {
    const response = await openai.responses.create(
      body as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming,
    );
    expect(response.usage).toEqual({
      input_tokens: 14,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 26,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 40,
    });
  },
  'openai-responses-cached-tokens': async (body) => {
    const response = await openai.responses.create(
      body as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming,
    );
    expect(response.usage).toMatchObject({
      input_tokens: 14,
      input_tokens_details: { cached_tokens: 13 },
      output_tokens: 26,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 40,
    });
  },
  'openai-responses-stream': async (body) => {
    const events = await collect(
      await openai.responses.create(
        body as unknown as OpenAI.Responses.ResponseCreateParamsStreaming,
      ),
    );
    const created = events.find((e) => e.type === 'response.created');
    const inProgress = events.find((e) => e.type === 'response.in_progress');
    const completed = events.find((e) => e.type === 'response.completed');
    expect(created?.type === 'response.created' && created.response.usage).toBeNull();
    expect(inProgress?.type === 'response.in_progress' && inProgress.response.usage).toBeNull();
    expect(completed?.type === 'response.completed' && completed.response.usage).toEqual({
      input_tokens: 13,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 104,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 117,
    });
  },
  'anthropic-messages': async (body) => {
    const message = await anthropic.messages.create(
      body as unknown as Anthropic.MessageCreateParamsNonStreaming,
    );
    expect(message.usage).toMatchObject({
      input_tokens: 17,
      output_tokens: 137,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      service_tier: 'standard',
    });
  },
  'anthropic-messages-stream': async (body) => {
    const events = await collect(
      await anthropic.messages.create(body as unknown as Anthropic.MessageCreateParamsStreaming),
    );
    const start = events.find((e) => e.type === 'message_start');
    const delta = events.find((e) => e.type === 'message_delta');
    expect(start?.type === 'message_start' && start.message.usage).toMatchObject({
      input_tokens: 17,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 1,
    });
    expect(delta?.type === 'message_delta' && delta.usage.output_tokens).toBe(158);
  },
  'anthropic-messages-thinking': async (body) => {
    const message = await anthropic.beta.messages.create({
      ...(body as unknown as Anthropic.Beta.MessageCreateParamsNonStreaming),
      betas: ['interleaved-thinking-2025-05-14'],
    });
    expect(message.usage).toMatchObject({
      input_tokens: 49,
      output_tokens: 186,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    });
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
  },
  'anthropic-messages-cache-creation': async (body) => {
    const message = await anthropic.messages.create(
      body as unknown as Anthropic.MessageCreateParamsNonStreaming,
    );
    expect(message.usage).toMatchObject({
      input_tokens: 1231,
      cache_creation_input_tokens: 1200,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0 },
      output_tokens: 5,
    });
  },
};

describe('recordings replayed through the real clients', () => {
  it('has a check for every recording in the recordings directory', async () => {
    expect(await listRecordings()).toEqual(Object.keys(REPLAY_CHECKS).sort());
  });

  it('reads the repo copy of the recordings by default', async () => {
    const dir = await resolveRecordingsDir();
    expect(dir).toBe(path.resolve(__dirname, 'fixtures', 'recordings'));
  });

  for (const [name, check] of Object.entries(REPLAY_CHECKS)) {
    it(`replays ${name}`, async () => {
      const recording = await loadRecording(name);
      fake.enqueue({ replay: name });
      await check(recording.request.body);
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0]?.pathname).toBe(recording.request.path);
    });
  }

  it('takes the recordings directory from LLM_FINOPS_RECORDINGS_DIR', async () => {
    const saved = process.env.LLM_FINOPS_RECORDINGS_DIR;
    process.env.LLM_FINOPS_RECORDINGS_DIR = '../shared/provider-recordings';
    try {
      expect(await resolveRecordingsDir()).toBe(path.resolve('../shared/provider-recordings'));
      expect(await resolveRecordingsDir('/elsewhere')).toBe('/elsewhere');
    } finally {
      if (saved === undefined) delete process.env.LLM_FINOPS_RECORDINGS_DIR;
      else process.env.LLM_FINOPS_RECORDINGS_DIR = saved;
    }
  });

  it('serves .sse files byte for byte and JSON bodies with their recorded literals', async () => {
    const dir = await resolveRecordingsDir();
    fake.enqueue({ replay: 'anthropic-messages-stream' }, { replay: 'openai-responses' });

    const sse = await fetch(`${fake.url}/v1/messages`, { method: 'POST', body: '{}' });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(sse.headers.get('request-id')).toBe('req_011CPyP4mVdYqDUHxqdFDszC');
    const recorded = await readFile(path.join(dir, 'anthropic-messages-stream.response.sse'));
    expect(Buffer.from(await sse.arrayBuffer()).equals(recorded)).toBe(true);

    const json = await fetch(`${fake.url}/v1/responses`, { method: 'POST', body: '{}' });
    expect(json.headers.get('content-type')).toBe('application/json');
    const text = await json.text();
    expect(json.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(text).toContain('"frequency_penalty": 0.0');
    expect(text).toContain('"temperature": 1.0');
  });

  it('splits SSE text into events that join back to the exact text', async () => {
    const recording = await loadRecording('anthropic-messages-stream');
    expect(recording.events?.join('')).toBe(recording.body);
    expect(splitSseEvents('data: a\n\ndata: b\n\n\n\n')).toEqual([
      'data: a\n\n',
      'data: b\n\n\n\n',
    ]);
  });
});

describe('errors, aborts and latency', () => {
  it('surfaces an OpenAI 429 as OpenAI.RateLimitError with the provider body', async () => {
    fake.enqueue({ status: 429, retryAfter: 20 });
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.type).toBe('requests');
    expect(rateLimit.requestID).toMatch(/^req_/);
    expect(rateLimit.headers.get('retry-after')).toBe('20');
  });

  it('surfaces Anthropic errors as the typed errors with the provider body', async () => {
    fake.enqueue(
      { status: 429, error: 'slow down' },
      { status: 529 },
      { status: 400, error: { message: 'max_tokens: Field required' } },
    );
    const params = {
      model: 'claude-sonnet-4-5',
      max_tokens: 8,
      messages: [{ role: 'user' as const, content: 'x' }],
    };
    const rateLimited = await anthropic.messages.create(params).catch((e: unknown) => e);
    expect(rateLimited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((rateLimited as AnthropicAPIError).error).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'slow down' },
    });
    expect((rateLimited as AnthropicAPIError).requestID).toMatch(/^req_011C/);
    const overloaded = await anthropic.messages.create(params).catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect((overloaded as AnthropicAPIError).status).toBe(529);
    const invalid = await anthropic.messages.create(params).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('lets retry headers steer the SDK retries', async () => {
    const retrying = new OpenAI({ apiKey: 'test', baseURL: fake.openaiBaseURL, maxRetries: 2 });
    fake.enqueue({ status: 500, retryAfterMs: 1 }, { content: 'after retry' });
    const completion = await retrying.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(completion.choices[0]?.message.content).toBe('after retry');
    expect(fake.requests).toHaveLength(2);

    fake.reset();
    fake.enqueue({ status: 503, shouldRetry: false });
    const error = await retrying.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(fake.requests).toHaveLength(1);
  });

  it('makes OpenAI stream iteration throw when the socket dies mid-stream', async () => {
    fake.enqueue({ chunks: 50, abortAfterChunks: 3 });
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const received: unknown[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) received.push(chunk);
      })(),
    ).rejects.toThrow();
    expect(received.length).toBeLessThanOrEqual(3);
  });

  it('makes Anthropic stream iteration throw when the socket dies mid-stream', async () => {
    fake.enqueue({ abortAfterChunks: 4, chunkDelayMs: 1 });
    const stream = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    await expect(collect(stream)).rejects.toThrow();
  });

  it('aborts a replayed stream and a non-streaming body too', async () => {
    fake.enqueue({ replay: 'openai-chat-stream-usage', abortAfterChunks: 2 });
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    await expect(collect(stream)).rejects.toThrow();

    fake.enqueue({ abortAfterChunks: 0 });
    const headersOnly = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    await expect(collect(headersOnly)).rejects.toThrow();

    fake.enqueue({ abortAfterChunks: 1 });
    await expect(
      openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toThrow();
  });

  it('drops the connection as an APIConnectionError', async () => {
    fake.enqueue({ dropConnection: true });
    const error = await openai.embeddings
      .create({ model: 'text-embedding-3-small', input: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('waits delayMs before answering', async () => {
    fake.enqueue({ delayMs: 120 });
    const started = performance.now();
    await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('applies the latency option to first byte and each stream event', async () => {
    const slow = await startFakeProvider({
      latency: { firstByteMs: 30, perChunkMs: 5 },
      chunks: 10,
    });
    try {
      const client = new OpenAI({ apiKey: 'test', baseURL: slow.openaiBaseURL });
      const started = performance.now();
      const chunks = await collect(
        await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'x' }],
          stream: true,
        }),
      );
      expect(chunks).toHaveLength(12);
      // 30 ms first byte + 12 gaps of 5 ms between 13 events
      expect(performance.now() - started).toBeGreaterThanOrEqual(80);
    } finally {
      await slow.close();
    }
  });
});

describe('scripting and lifecycle', () => {
  it('matches queued replies by route and falls back to the handler, then defaults', async () => {
    fake.enqueue({ match: 'messages', content: 'for anthropic' });
    fake.setHandler((req) =>
      req.body?.model === 'gpt-4o' ? { usage: { prompt_tokens: 999 } } : undefined,
    );
    try {
      const fromHandler = await openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(fromHandler.usage?.prompt_tokens).toBe(999);
      const fromDefault = await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(fromDefault.usage?.prompt_tokens).toBe(1);
      expect(fake.pendingReplies).toBe(1);
      const message = await anthropic.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(message.content[0]?.type === 'text' && message.content[0].text).toBe('for anthropic');
    } finally {
      fake.setHandler(undefined);
    }
  });

  it('answers unknown paths with a provider-shaped 404', async () => {
    const error = await openai.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(fake.requests[0]?.method).toBe('GET');
    expect(fake.requests[0]?.route).toBeUndefined();
  });

  it('closes promptly with keep-alive connections open', async () => {
    const other = await startFakeProvider();
    const client = new OpenAI({ apiKey: 'test', baseURL: other.openaiBaseURL, maxRetries: 0 });
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    other.enqueue({ delayMs: 60_000 });
    const pending = client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    await other.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await pending).toBeInstanceOf(Error);
  });

  it('runs as a CLI that prints its URL as one JSON line', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'fake-provider-cli-'));
    try {
      const root = path.resolve(__dirname, '..');
      await promisify(execFile)(
        process.execPath,
        [
          require.resolve('typescript/bin/tsc'),
          path.join(root, 'demo/fake-provider/main.ts'),
          '--outDir',
          outDir,
          '--rootDir',
          path.join(root, 'demo/fake-provider'),
          '--module',
          'node16',
          '--target',
          'ES2022',
          '--strict',
          '--skipLibCheck',
          '--types',
          'node',
        ],
        { cwd: root },
      );
      const child = spawn(process.execPath, [path.join(outDir, 'main.js'), '--port', '0'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (data: Buffer) => {
            out += data.toString();
            if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
          });
          child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
        });
        const { url } = JSON.parse(line) as { url: string };
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const client = new OpenAI({ apiKey: 'test', baseURL: `${url}/v1`, maxRetries: 0 });
        const completion = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'x' }],
        });
        expect(completion.usage?.completion_tokens).toBe(32);
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
