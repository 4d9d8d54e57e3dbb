import type { Request, Response } from 'express';
import { recordOutcome } from 'llm-finops';
import type OpenAI from 'openai';
import { featureInput } from './input';
import { CHAT_SYSTEM_PROMPT } from './prompts';
import { MODELS, routeTier } from './router';

/** Chat: the routed OpenAI model, streamed to the client as plain text. */
export function chatHandler(openai: OpenAI) {
  return async (req: Request, res: Response): Promise<void> => {
    const input = featureInput(req);
    const tier = routeTier(input);
    // A denied budget rejects here, before anything is written: the error handler answers 402.
    const stream = await openai.chat.completions.create({
      model: MODELS.openai[tier],
      messages: [
        { role: 'system', content: CHAT_SYSTEM_PROMPT },
        { role: 'user', content: input.text },
      ],
      max_completion_tokens: 350,
      stream: true,
    });
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.setHeader('x-model-tier', tier);
    let finish: string | null = null;
    try {
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (choice?.delta.content) res.write(choice.delta.content);
        finish = choice?.finish_reason ?? finish;
      }
    } catch (err) {
      recordOutcome('chat', 'failure');
      res.destroy();
      throw err;
    }
    recordOutcome('chat', finish === 'stop' ? 'success' : 'failure');
    res.end();
  };
}
