import type { Request, Response } from 'express';
import { recordOutcome } from 'llm-finops';
import type OpenAI from 'openai';
import { featureInput } from './input';
import { AGENT_INSTRUCTIONS, AGENT_TOOLS, toolResult } from './prompts';
import { MODELS, type Tier } from './router';

/** A premium step fails this many times less often than an economy one. */
const PREMIUM_RELIABILITY = 4;

/**
 * Agent loop: one Responses API call per tool step, each reading the results of the steps
 * before it (so the context, and the cost, grows). Steps run on the economy tier; a failed step
 * (simulated, with the task's difficulty) is retried on the premium tier, which the rest of the
 * task keeps. A failure on the premium tier fails the task.
 */
export function agentHandler(openai: OpenAI) {
  return async (req: Request, res: Response): Promise<void> => {
    const { text, steps, difficulty } = featureInput(req);
    let tier: Tier = 'economy';
    let calls = 0;
    const results: string[] = [];
    while (results.length < steps) {
      const step = results.length;
      await openai.responses.create({
        model: MODELS.openai[tier],
        instructions: AGENT_INSTRUCTIONS,
        tools: AGENT_TOOLS,
        input: [
          { role: 'user', content: text },
          ...results.map((r) => ({ role: 'user' as const, content: `Tool result: ${r}` })),
        ],
        max_output_tokens: 200,
      });
      calls++;
      const failRate = tier === 'premium' ? difficulty / PREMIUM_RELIABILITY : difficulty;
      if (Math.random() < failRate) {
        if (tier === 'premium') {
          recordOutcome('agent', 'failure');
          res.status(422).json({ done: false, calls, tier });
          return;
        }
        tier = 'premium';
        continue;
      }
      results.push(toolResult(AGENT_TOOLS[step % AGENT_TOOLS.length]!.name, step));
    }
    recordOutcome('agent', 'success');
    res.json({ done: true, calls, tier });
  };
}
