/**
 * `llm-finops export focus` (the real CLI) against a real Prometheus holding a month of known
 * history: the CSV follows the FinOps FOCUS 1.2 column rules (every Mandatory column, types,
 * required values, charge periods inside the billing period) and its figures equal the scenario's
 * ledger and the report's totals.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/report/types';
import { startFinopsHistory, type FinopsHistory } from './helpers/finops-history';

const CLI = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');

/** FOCUS 1.2 columns whose feature level is Mandatory (all must be present). */
const MANDATORY = [
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeClass',
  'ChargeDescription',
  'ChargePeriodEnd',
  'ChargePeriodStart',
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
];
/** Columns that FOCUS does not allow to be null (ChargeClass may be: null = not a correction). */
const NOT_NULL = MANDATORY.filter((c) => c !== 'ChargeClass');
const DECIMALS = [
  'BilledCost',
  'ContractedCost',
  'EffectiveCost',
  'ListCost',
  'PricingQuantity',
  'ConsumedQuantity',
];
const DATETIMES = [
  'BillingPeriodStart',
  'BillingPeriodEnd',
  'ChargePeriodStart',
  'ChargePeriodEnd',
];
const DECIMAL = /^-?\d+(\.\d+)?$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const CHARGE_CATEGORIES = ['Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment'];

let history: FinopsHistory;

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args, '--prometheus', history.prom.url], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout;
}

function csv(...args: string[]): Record<string, string>[] {
  return parse(cli('export', 'focus', ...args), { columns: true, record_delimiter: '\r\n' });
}

const sum = (rows: Record<string, string>[], column: string) =>
  rows.reduce((a, r) => a + Number(r[column]), 0);

beforeAll(async () => {
  history = await startFinopsHistory();
}, 240_000);

afterAll(async () => {
  await history?.stop();
});

describe('llm-finops export focus --month 2026-11', () => {
  let rows: Record<string, string>[];
  let header: string[];
  beforeAll(() => {
    const text = cli('export', 'focus', '--month', '2026-11');
    header = text.slice(0, text.indexOf('\r\n')).split(',');
    rows = parse(text, { columns: true, record_delimiter: '\r\n' });
  }, 120_000);

  it('has every FOCUS 1.2 Mandatory column and x_-prefixed extensions only', () => {
    for (const c of MANDATORY) expect(header, c).toContain(c);
    expect(new Set(header).size).toBe(header.length);
    const known = new Set([
      ...MANDATORY,
      'ChargeFrequency',
      'ConsumedQuantity',
      'ConsumedUnit',
      'SkuId',
    ]);
    for (const c of header) if (!known.has(c)) expect(c, c).toMatch(/^x_[A-Z][A-Za-z]+$/);
  });

  it('every row follows the column rules', () => {
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      for (const c of NOT_NULL) expect(r[c], c).not.toBe('');
      for (const c of DECIMALS) expect(r[c], c).toMatch(DECIMAL);
      for (const c of DATETIMES) expect(r[c], c).toMatch(DATETIME);
      expect(r.BillingCurrency).toBe('USD');
      expect(CHARGE_CATEGORIES).toContain(r.ChargeCategory);
      expect(r.ChargeClass).toBe('');
      expect(r.ServiceCategory).toBe('AI and Machine Learning');
      expect(r.ServiceSubcategory).toBe('Generative AI');
      expect(r.BillingPeriodStart).toBe('2026-11-01T00:00:00Z');
      expect(r.BillingPeriodEnd).toBe('2026-12-01T00:00:00Z');
      const start = Date.parse(r.ChargePeriodStart!);
      const end = Date.parse(r.ChargePeriodEnd!);
      expect(end - start).toBe(86_400_000);
      expect(start).toBeGreaterThanOrEqual(Date.parse(r.BillingPeriodStart!));
      expect(end).toBeLessThanOrEqual(Date.parse(r.BillingPeriodEnd!));
      // Actual cost everywhere but ListCost, the baseline.
      expect(r.EffectiveCost).toBe(r.BilledCost);
      expect(r.ContractedCost).toBe(r.BilledCost);
      expect(r.PricingQuantity).toBe(r.ConsumedQuantity);
      expect(r.SkuId).toBe(`${r.x_Provider}/${r.x_Model}`);
    }
  });

  it('one row per day, provider, model and feature, each equal to the ledger', () => {
    const l = history.scenario.ledger;
    const want = l.daily.flatMap((d) =>
      d.rows.filter((r) => r.cost !== 0 || r.baseline !== 0).map((r) => ({ ...r, start: d.start })),
    );
    expect(rows).toHaveLength(want.length);
    const byKey = new Map(
      rows.map((r) => [
        `${Date.parse(r.ChargePeriodStart!) / 1000} ${r.x_Provider}/${r.x_Model}/${r.x_Feature}`,
        r,
      ]),
    );
    for (const w of want) {
      const key = `${w.start} ${w.provider}/${w.model}/${w.feature}`;
      const r = byKey.get(key);
      expect(r, key).toBeDefined();
      expect(Number(r!.BilledCost), key).toBeCloseTo(w.cost, 6);
      expect(Number(r!.ListCost), key).toBeCloseTo(w.baseline, 6);
      expect(Number(r!.x_Requests), key).toBe(w.requests);
      expect(r!.x_Tier, key).toBe(w.tier);
      const tokens = Object.values(w.tokens).reduce((a, n) => a + n, 0);
      expect(Number(r!.ConsumedQuantity), key).toBe(tokens);
    }
  });

  it('--out writes the same CSV to a file, nothing to stdout', () => {
    const dir = join(__dirname, '..', 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'focus-2026-11.csv');
    expect(cli('export', 'focus', '--month', '2026-11', '--out', file)).toBe('');
    expect(parse(readFileSync(file, 'utf8'), { columns: true, record_delimiter: '\r\n' })).toEqual(
      rows,
    );
  });

  it('totals equal the report of the same month; tokens equal Prometheus', async () => {
    const report = JSON.parse(cli('report', '--month', '2026-11', '--format', 'json')) as Report;
    expect(sum(rows, 'BilledCost')).toBeCloseTo(report.cost_usd, 6);
    expect(sum(rows, 'ListCost')).toBeCloseTo(report.baseline_cost_usd, 6);
    // Calls to unpriced models have no cost to bill: they are in the report, not in FOCUS.
    const unbilled = report.by_model
      .filter((m) => m.cost_usd === 0 && m.baseline_cost_usd === 0)
      .reduce((a, m) => a + m.requests, 0);
    expect(unbilled).toBeGreaterThan(0);
    expect(sum(rows, 'x_Requests')).toBe(report.requests_by_status.ok - unbilled);
    const tokens = await history.prom.query(
      'sum(increase(llm_tokens_total{model!="acme-search-ft-2"}[30d]))',
      history.end,
    );
    expect(sum(rows, 'ConsumedQuantity')).toBe(Number(tokens[0]!.value[1]));
  });
});

describe('llm-finops export focus in a time zone', () => {
  it('Paris days: charge periods start at local midnight and sum to the report of the same days', () => {
    const args = ['--timezone', 'Europe/Paris', '--from', '2026-11-02', '--to', '2026-11-05'];
    const rows = csv(...args);
    const starts = [...new Set(rows.map((r) => r.ChargePeriodStart))].sort();
    expect(starts).toEqual([
      '2026-11-01T23:00:00Z',
      '2026-11-02T23:00:00Z',
      '2026-11-03T23:00:00Z',
    ]);
    expect(new Set(rows.map((r) => r.BillingPeriodStart))).toEqual(
      new Set(['2026-11-01T23:00:00Z']),
    );
    const report = JSON.parse(cli('report', ...args, '--format', 'json')) as Report;
    expect(report.daily.map((d) => d.date)).toEqual(['2026-11-02', '2026-11-03', '2026-11-04']);
    expect(sum(rows, 'BilledCost')).toBeCloseTo(report.cost_usd, 6);
  });
});
