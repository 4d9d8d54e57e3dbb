/**
 * The demo's example app: an ordinary Express service with three LLM features. It has no
 * llm-finops code but the middleware that reads the x-llm-* headers and the outcome and cache
 * reports; pricing and attribution come from `node --require llm-finops/register`.
 */
import Anthropic from '@anthropic-ai/sdk';
import express from 'express';
import OpenAI from 'openai';
import {
  budgetErrorHandler,
  expressMiddleware,
  recordCacheLookup,
  recordOutcome,
} from 'llm-finops';

const providerUrl = process.env.FAKE_PROVIDER_URL ?? '';
const openai = new OpenAI({ apiKey: 'demo', baseURL: `${providerUrl}/v1`, maxRetries: 0 });
const anthropic = new Anthropic({ apiKey: 'demo', baseURL: providerUrl, maxRetries: 0 });
const faqCache = new Map<string, string>();

const app = express();
app.use(express.json());
app.use(expressMiddleware());

/** Chat: a cheap model, streamed. */
app.post('/chat', async (req, res) => {
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [
      {
        role: 'user',
        content: String((req.body as { text?: string } | undefined)?.text ?? 'hello'),
      },
    ],
    stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  recordOutcome('chat', 'success');
  res.json({ text });
});

/** Summarise: Anthropic, with a response cache in front of it. */
app.post('/summarise', async (req, res) => {
  const doc = String((req.body as { text?: string } | undefined)?.text ?? '');
  const cached = faqCache.get(doc);
  recordCacheLookup({
    feature: 'summarise',
    hit: cached !== undefined,
    model: 'claude-haiku-4-5',
    inputTokens: 1200,
    outputTokens: 150,
  });
  if (cached !== undefined) {
    res.json({ summary: cached, cached: true });
    return;
  }
  const message = await anthropic.messages.create({
    model: 'claude-haiku-4-5',
    max_tokens: 300,
    messages: [{ role: 'user', content: `Summarise: ${doc}` }],
  });
  const summary = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  faqCache.set(doc, summary);
  recordOutcome('summarise', 'success');
  res.json({ summary });
});

/** Agent: a reasoning model plans, a standard model acts, three steps. */
app.post('/agent', async (_req, res) => {
  for (let step = 0; step < 3; step++) {
    await openai.responses.create({
      model: step === 0 ? 'o4-mini' : 'gpt-4.1',
      input: `step ${step}`,
    });
  }
  recordOutcome('agent', 'success');
  res.json({ done: true });
});

app.use(budgetErrorHandler());

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(
    JSON.stringify({
      url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    }),
  );
});
