import type { Request } from 'express';

/** The JSON body fields the demo features read; anything else is ignored. */
export interface FeatureInput {
  text: string;
  hard: boolean;
  /** Summarise: the document's id, the response cache key. */
  docId?: string;
  /** Agent: tool steps of the task, 1 to 8. */
  steps: number;
  /** Agent: chance (0 to 1) that an economy-tier step fails. */
  difficulty: number;
}

export function featureInput(req: Request): FeatureInput {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const num = (v: unknown, def: number, min: number, max: number) =>
    typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : def;
  return {
    text: typeof body.text === 'string' ? body.text : '',
    hard: body.hard === true,
    docId: typeof body.docId === 'string' ? body.docId : undefined,
    steps: Math.round(num(body.steps, 3, 1, 8)),
    difficulty: num(body.difficulty, 0.2, 0, 1),
  };
}
