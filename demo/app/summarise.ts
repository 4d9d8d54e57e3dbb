import type Anthropic from '@anthropic-ai/sdk';
import type { Request, Response } from 'express';
import { recordCacheLookup, recordOutcome } from 'llm-finops';
import { featureInput } from './input';
import { SUMMARISE_SYSTEM_PROMPT } from './prompts';
import type { ResponseCache } from './response-cache';
import { MODELS, routeTier } from './router';

/**
 * Summarise: Anthropic, behind a response cache keyed by document id. A hit reports the call it
 * avoided (the model and token counts of the call that filled the entry) as cache savings.
 */
export function summariseHandler(anthropic: Anthropic, cache: ResponseCache) {
  return async (req: Request, res: Response): Promise<void> => {
    const input = featureInput(req);
    const key = input.docId ?? input.text;
    const cached = cache.get(key);
    recordCacheLookup({
      feature: 'summarise',
      hit: cached !== undefined,
      model: cached?.model,
      inputTokens: cached?.inputTokens,
      outputTokens: cached?.outputTokens,
    });
    if (cached) {
      recordOutcome('summarise', 'success');
      res.json({ summary: cached.summary, model: cached.model, cached: true });
      return;
    }
    const model = MODELS.anthropic[routeTier(input)];
    const message = await anthropic.messages.create({
      model,
      max_tokens: 250,
      system: SUMMARISE_SYSTEM_PROMPT,
      messages: [{ role: 'user', content: input.text }],
    });
    const summary = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    cache.set(key, {
      summary,
      model,
      inputTokens: message.usage.input_tokens,
      outputTokens: message.usage.output_tokens,
    });
    recordOutcome('summarise', message.stop_reason === 'max_tokens' ? 'failure' : 'success');
    res.json({ summary, model, cached: false });
  };
}
