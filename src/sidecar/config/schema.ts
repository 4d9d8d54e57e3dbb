import { z } from 'zod';

/** Suffixes of durations in the config (`15s`, `2m`, `1h`, `500ms`). */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `15s`-style durations to milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m?.[1] || !m[2]) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2]] ?? NaN);
}

const duration = (what: string, minMs: number) =>
  z
    .string({ invalid_type_error: `${what} must be a duration such as 15s, 2m or 1h` })
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (e.g. 15s, 2m, 1h)` });
        return z.NEVER;
      }
      if (ms < minMs) {
        ctx.addIssue({ code: 'custom', message: `${what} must be at least ${minMs} ms` });
        return z.NEVER;
      }
      return ms;
    });

/** `day`, `week` (ISO, from Monday), `month` (calendar, in the configured time zone) or rolling `<N>h`. */
export const windowSchema = z
  .string()
  .regex(/^(day|week|month|[1-9]\d{0,3}h)$/, 'window must be day, week, month or <N>h (e.g. 24h)');

const capSchema = z
  .object({
    window: windowSchema,
    limit_usd: z.number().nonnegative('limit_usd must be 0 or more'),
    warn_at: z
      .number()
      .gt(0, 'warn_at is a fraction of the limit, above 0')
      .max(1, 'warn_at is a fraction of the limit, at most 1')
      .default(0.8),
  })
  .strict();

/** One or more caps on one subject; each window at most once. */
const capsSchema = z
  .array(capSchema)
  .min(1, 'give at least one { window, limit_usd }')
  .superRefine((caps, ctx) => {
    const seen = new Set<string>();
    caps.forEach((cap, i) => {
      if (seen.has(cap.window))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'window'],
          message: `window ${cap.window} given twice`,
        });
      seen.add(cap.window);
    });
  });

const failMode = z.enum(['open', 'closed'], {
  errorMap: () => ({ message: 'fail_mode must be open or closed' }),
});

/** Valid user, feature and plan values (also checked on every request). */
export const SUBJECT_PATTERN = /^[A-Za-z0-9._:@+=/~|-]{1,200}$/;
const subjectKey = z
  .string()
  .regex(SUBJECT_PATTERN, 'names are 1-200 of A-Z a-z 0-9 . _ : @ + = / ~ | -');

export const budgetConfigSchema = z
  .object({
    prometheus: z
      .object({
        url: z.string().url('prometheus.url must be an http(s) URL'),
        /** How often spend is read from Prometheus. */
        refresh: duration('refresh', 1000).default('15s'),
        /** Spend data older than this is stale: decisions then follow `fail_mode`. */
        stale_after: duration('stale_after', 1000).default('2m'),
        /**
         * Step at which counter resets are looked for; window starts must be multiples of it, so
         * it must divide 15 minutes (every time zone's offset is a multiple of 15 minutes).
         */
        resolution: duration('resolution', 1000)
          .default('15s')
          .refine((ms) => 900_000 % ms === 0, 'resolution must divide 15m (e.g. 15s, 30s, 1m, 5m)'),
        /**
         * How long a series may go without samples (failed scrapes, a restarting app) and still be
         * the same counter; a series silent for longer has ended and its last value is kept.
         */
        max_scrape_gap: duration('max_scrape_gap', 1000).default('10m'),
        /**
         * Step used once, at start, to read counter resets in the history of the windows; coarser
         * is cheaper for Prometheus. Must divide 15m and be a multiple of `resolution`.
         */
        backfill_step: duration('backfill_step', 1000)
          .default('15m')
          .refine((ms) => 900_000 % ms === 0, 'backfill_step must divide 15m (e.g. 1m, 5m, 15m)'),
        /**
         * PromQL queries of a refresh in flight at once: more is faster on a large Prometheus,
         * fewer bounds its memory (each query over a million users' series can hold tens of
         * millions of samples).
         */
        parallel_queries: z.number().int().min(1).max(32).default(2),
        /** Timeout of one PromQL query. */
        timeout: duration('timeout', 100).default('2m'),
        /** Extra label matchers for every query, e.g. `job="checkout"` (PromQL syntax). */
        selector: z.string().max(500).default(''),
        basic_auth: z
          .object({
            username: z.string(),
            password: z.string().optional(),
            password_env: z.string().optional(),
          })
          .strict()
          .optional(),
        bearer_token: z.string().optional(),
        bearer_token_env: z.string().optional(),
        headers: z.record(z.string()).default({}),
      })
      .strict()
      .refine((p) => p.backfill_step % p.resolution === 0, {
        message: 'backfill_step must be a multiple of resolution',
        path: ['backfill_step'],
      }),
    timezone: z
      .string()
      .default('UTC')
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'timezone must be an IANA time zone such as UTC or Europe/Paris'),
    fail_mode: z
      .union([
        failMode,
        z.object({ global: failMode, feature: failMode, user: failMode }).partial().strict(),
      ])
      .default('open'),
    upgrade: z
      .object({
        url: z.string().url('upgrade.url must be a URL'),
        message: z.string().min(1).default('You have reached your AI budget for this period.'),
      })
      .strict(),
    /** Header names read by the proxy endpoints. */
    headers: z
      .object({ user: z.string(), feature: z.string(), plan: z.string() })
      .partial()
      .strict()
      .default({}),
    /** How the `user` label was written by the instrumentation (LLM_FINOPS_USER_ID_MODE). */
    user_id_mode: z.enum(['raw', 'hash']).default('raw'),
    reservations: z
      .object({
        /** A reservation not settled within this time is released. */
        ttl: duration('reservations.ttl', 1000).default('10m'),
        /** Settled costs count until Prometheus shows them, at most this long. */
        settled_ttl: duration('reservations.settled_ttl', 1000).default('5m'),
        /** Env variable holding the bearer token required by reserve and settle. */
        token_env: z.string().optional(),
      })
      .strict()
      .default({}),
    budgets: z
      .object({
        global: capsSchema.optional(),
        features: z.record(subjectKey, capsSchema).default({}),
        users: z
          .object({
            default: capsSchema.optional(),
            plans: z.record(subjectKey, capsSchema).default({}),
            overrides: z.record(subjectKey, capsSchema).default({}),
          })
          .strict()
          .default({}),
      })
      .strict(),
  })
  .strict();

/** The budget config as written (before defaults). */
export type BudgetConfigInput = z.input<typeof budgetConfigSchema>;
/** The validated budget config, durations in milliseconds. */
export type BudgetConfig = z.output<typeof budgetConfigSchema>;
export type Cap = z.output<typeof capSchema>;
export type FailMode = z.output<typeof failMode>;
