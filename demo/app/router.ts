/**
 * Model routing between tiers: the economy model first, the standard one for long inputs, the
 * premium one for inputs marked hard. This is where the savings against the baseline come from.
 */
export const MODELS = {
  openai: { economy: 'gpt-4o-mini', standard: 'gpt-4.1', premium: 'o1' },
  anthropic: {
    economy: 'claude-haiku-4-5',
    standard: 'claude-sonnet-4-5',
    premium: 'claude-opus-4-1',
  },
} as const;

export type Tier = keyof (typeof MODELS)['openai'];

/** Inputs longer than this (characters, about 1,500 tokens) go to the standard tier. */
export const LONG_INPUT_CHARS = 6_000;

export function routeTier(input: { text: string; hard?: boolean }): Tier {
  if (input.hard) return 'premium';
  return input.text.length > LONG_INPUT_CHARS ? 'standard' : 'economy';
}
