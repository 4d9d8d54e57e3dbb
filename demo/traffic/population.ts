import { seededRandom } from './random';

export const FEATURES = ['chat', 'summarise', 'agent'] as const;
export type Feature = (typeof FEATURES)[number];
export type Plan = 'free' | 'pro' | 'team';

/** The user who loops requests until their cap stops them (an override in demo/budgets.yaml). */
export const RUNAWAY_USER = 'runaway-bot';

export interface SimUser {
  id: string;
  plan: Plan;
  /** Share of the traffic: heavy-tailed over the population. */
  weight: number;
  /** Relative use of each feature. */
  mix: Record<Feature, number>;
}

/**
 * `count` users whose activity follows a Zipf law (the first user makes several times the
 * requests of the tenth, most make few): the heaviest are on the team plan, the next on pro,
 * the long tail on free. Seeded, so every run has the same population.
 */
export function population(count: number, seed = 7): SimUser[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const rank = i + 1;
    const share = rank / count;
    return {
      id: `user-${String(rank).padStart(2, '0')}`,
      plan: share <= 0.15 ? 'team' : share <= 0.5 ? 'pro' : 'free',
      weight: 1 / rank ** 1.1,
      mix: { chat: 1 + 4 * random(), summarise: 1 + 2 * random(), agent: random() },
    };
  });
}
