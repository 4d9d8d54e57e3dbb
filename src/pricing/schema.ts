import { z } from 'zod';
import type { Tier } from './types';

/** The model tiers, our addition to the LiteLLM price keys. */
export const TIERS = ['economy', 'standard', 'premium'] as const satisfies readonly Tier[];

const RATE_MESSAGE = 'expected a number >= 0';

/**
 * A USD-per-token rate. `null` counts as absent because LiteLLM writes it for unknown rates; a
 * negative or non-finite rate is an error, never a silent $0.
 */
const rate = z
  .number({
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_type'
        ? { message: `${RATE_MESSAGE}, got ${issue.received}` }
        : { message: ctx.defaultError },
  })
  .finite(RATE_MESSAGE)
  .min(0, RATE_MESSAGE)
  .nullish();

const regex = z.string().refine((source) => {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

/**
 * One model's prices, in LiteLLM's `model_prices_and_context_window.json` keys plus our `tier`,
 * `aliases` and `match`. Unknown keys (LiteLLM has dozens: context sizes, capability flags, batch
 * and priority rates) are accepted and dropped. Token rates are optional here because LiteLLM has
 * entries priced per image, per second or per query: our format requires them (see
 * `priceFileSchema`), a LiteLLM file's entries without them are skipped by the loader.
 */
export const priceEntrySchema = z.object(
  {
    input_cost_per_token: rate,
    output_cost_per_token: rate,
    cache_read_input_token_cost: rate,
    cache_creation_input_token_cost: rate,
    output_cost_per_reasoning_token: rate,
    litellm_provider: z.string().min(1).nullish(),
    mode: z.string().nullish(),
    tier: z
      .enum(TIERS, {
        errorMap: (issue) => ({
          message: `expected one of ${TIERS.join(' | ')}${
            'received' in issue ? `, got ${JSON.stringify(issue.received)}` : ''
          }`,
        }),
      })
      .optional(),
    aliases: z.array(z.string().min(1)).optional(),
    match: regex.optional(),
  },
  { errorMap: () => ({ message: 'expected a mapping of price keys to values' }) },
);

/** A price entry as written in a file. */
export type PriceEntryInput = z.infer<typeof priceEntrySchema>;

/** Whether an entry is priced per token: an input rate, and an output rate unless it embeds. */
export function hasTokenRates(entry: PriceEntryInput): boolean {
  return (
    entry.input_cost_per_token != null &&
    (entry.output_cost_per_token != null || entry.mode === 'embedding')
  );
}

/**
 * An entry of our format: it must be priced per token, so that a typo in a rate key is an error
 * rather than a model silently priced at $0.
 */
const pricedEntrySchema = priceEntrySchema.superRefine((entry, ctx) => {
  if (entry.input_cost_per_token == null) {
    ctx.addIssue({ code: 'custom', path: ['input_cost_per_token'], message: 'required' });
  } else if (!hasTokenRates(entry)) {
    ctx.addIssue({
      code: 'custom',
      path: ['output_cost_per_token'],
      message: 'required (0 for embeddings)',
    });
  }
});

const modelMap = <T extends z.ZodTypeAny>(entry: T) =>
  z.record(z.string(), entry, {
    errorMap: () => ({ message: 'expected a mapping of model id to price entry' }),
  });

/**
 * Our price file format, used by the bundled catalog and by override files: a dated map of model
 * id to entry. An alias may name one model only (case-insensitively, as resolution matches).
 */
export const priceFileSchema = z
  .object({
    catalog_date: z
      .string({ invalid_type_error: 'expected a date YYYY-MM-DD in quotes' })
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
      .optional(),
    source: z.string().optional(),
    models: modelMap(pricedEntrySchema),
  })
  .superRefine((file, ctx) => {
    const owner = new Map<string, string>();
    for (const id of Object.keys(file.models)) owner.set(id.toLowerCase(), id);
    for (const [id, entry] of Object.entries(file.models)) {
      (entry.aliases ?? []).forEach((alias, i) => {
        const other = owner.get(alias.toLowerCase());
        if (other !== undefined && other !== id) {
          const message = `"${alias}" already names model ${other}`;
          ctx.addIssue({ code: 'custom', path: ['models', id, 'aliases', i], message });
        } else owner.set(alias.toLowerCase(), id);
      });
    }
  });

/** Our price file format, as validated. */
export type PriceFileInput = z.infer<typeof priceFileSchema>;

/**
 * A LiteLLM `model_prices_and_context_window.json`, as is: a flat map of model id to entry (its
 * `sample_spec` documentation entry is removed by the loader before validation).
 */
export const litellmFileSchema = modelMap(priceEntrySchema);
