import { METRICS } from '../contract/metrics';
import type { PrometheusApi } from '../prometheus/api';
import { counterIncreases, type IncreaseRow } from '../report/counter-increases';
import type { Period } from '../report/period';

/**
 * FinOps FOCUS 1.2 cost and usage rows for LLM spend, one per local day, provider, model and
 * feature: finance tools ingest them next to cloud bills. ListCost is the baseline (what the same
 * tokens cost at the baseline model's rates), BilledCost = EffectiveCost = ContractedCost the
 * actual cost; llm-finops dimensions ride in `x_` columns, as the spec's extension rules require.
 */

/** The columns written, in order: every FOCUS 1.2 Mandatory column, useful Conditional ones, then x_ columns. */
export const FOCUS_COLUMNS = [
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeClass',
  'ChargeDescription',
  'ChargeFrequency',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'ConsumedQuantity',
  'ConsumedUnit',
  'ContractedCost',
  'EffectiveCost',
  'InvoiceIssuerName',
  'ListCost',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'ServiceCategory',
  'ServiceName',
  'ServiceSubcategory',
  'SkuId',
  'x_Provider',
  'x_Model',
  'x_Tier',
  'x_Feature',
  'x_Requests',
  'x_BaselineModel',
] as const;

export type FocusColumn = (typeof FOCUS_COLUMNS)[number];
export type FocusRow = Record<FocusColumn, string>;

export interface FocusOptions {
  /** Longest scrape gap bridged when reading counters. */
  readonly gapMs: number;
  /** BillingAccountId/Name; default: the provider (each provider bills its own account). */
  readonly billingAccount?: string;
  /** The model whose rates ListCost uses. */
  readonly baselineModel: string;
}

/** Display names of the providers llm-finops instruments (gen_ai.provider.name values). */
const PROVIDER_NAMES: Record<string, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };

/** Reads the period's daily spend by provider, model, tier and feature and returns FOCUS rows. */
export async function focusRows(
  api: PrometheusApi,
  period: Period,
  options: FocusOptions,
): Promise<FocusRow[]> {
  const model = ['provider', 'model', 'tier', 'feature'];
  const read = (metric: keyof typeof METRICS, by: string[]) =>
    counterIncreases(api, METRICS[metric].promName, by, period, {
      gapMs: options.gapMs,
      daily: true,
    });
  const [cost, baseline, requests, tokens] = await Promise.all([
    read('cost', model),
    read('baselineCost', model),
    read('requests', [...model, 'status']),
    read('tokens', ['provider', 'model', 'feature']),
  ]);
  const key = (l: Readonly<Record<string, string>>) =>
    [l.provider, l.model, l.tier, l.feature].join('\u0000');
  const index = (rows: readonly IncreaseRow[]) => new Map(rows.map((r) => [key(r.labels), r]));
  const baselineBy = index(baseline);
  const okBy = index(requests.filter((r) => r.labels.status === 'ok'));
  const tokensBy = new Map(
    tokens.map((r) => [[r.labels.provider, r.labels.model, r.labels.feature].join('\u0000'), r]),
  );
  const billingStart = iso(period.start);
  const billingEnd = iso(period.end);
  const rows: FocusRow[] = [];
  for (const c of [...cost].sort((a, b) => key(a.labels).localeCompare(key(b.labels)))) {
    const { provider = '', model: modelId = '', tier = '', feature = '' } = c.labels;
    const b = baselineBy.get(key(c.labels));
    const ok = okBy.get(key(c.labels));
    const t = tokensBy.get([provider, modelId, feature].join('\u0000'));
    const name = PROVIDER_NAMES[provider] ?? provider;
    const account = options.billingAccount ?? provider;
    period.days.forEach((day, i) => {
      const actual = c.daily[i] ?? 0;
      const list = b?.daily[i] ?? 0;
      // A day without priced spend has nothing to bill (unpriced models are in the report).
      if (actual === 0 && list === 0) return;
      const quantity = decimal(t?.daily[i] ?? 0);
      rows.push({
        BilledCost: decimal(actual),
        BillingAccountId: account,
        BillingAccountName: account,
        BillingCurrency: 'USD',
        BillingPeriodEnd: billingEnd,
        BillingPeriodStart: billingStart,
        ChargeCategory: 'Usage',
        ChargeClass: '',
        ChargeDescription: `${modelId} calls of feature ${feature}`,
        ChargeFrequency: 'Usage-Based',
        ChargePeriodEnd: iso(day.end),
        ChargePeriodStart: iso(day.start),
        ConsumedQuantity: quantity,
        ConsumedUnit: 'Tokens',
        ContractedCost: decimal(actual),
        EffectiveCost: decimal(actual),
        InvoiceIssuerName: name,
        ListCost: decimal(list),
        PricingQuantity: quantity,
        PricingUnit: 'Tokens',
        ProviderName: name,
        PublisherName: name,
        ServiceCategory: 'AI and Machine Learning',
        ServiceName: `${name} API`,
        ServiceSubcategory: 'Generative AI',
        SkuId: `${provider}/${modelId}`,
        x_Provider: provider,
        x_Model: modelId,
        x_Tier: tier,
        x_Feature: feature,
        x_Requests: decimal(ok?.daily[i] ?? 0),
        x_BaselineModel: options.baselineModel,
      });
    });
  }
  return rows;
}

/** RFC 4180 CSV with a header line; CRLF line ends as the RFC asks. */
export function focusCsv(rows: readonly FocusRow[]): string {
  const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [
    FOCUS_COLUMNS.join(','),
    ...rows.map((r) => FOCUS_COLUMNS.map((c) => cell(r[c])).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** FOCUS date-times: ISO 8601 in UTC with a Z, whole seconds. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** A plain decimal (never exponent notation), up to 12 decimals, no trailing zeros. */
function decimal(n: number): string {
  const fixed = n.toFixed(12).replace(/\.?0+$/, '');
  return fixed === '-0' ? '0' : fixed;
}
