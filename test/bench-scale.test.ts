// The scale bench's series count, small: an instrumented app (the bench's own, from dist) makes
// calls for 200 users × 3 features × 2 models against the fake provider, and /metrics must hold
// exactly the series DESIGN.md's formula gives per family. No timing here: figures are the bench's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../demo/fake-provider';
import { measureSeries } from '../bench/scale/measure';
import { expectedCounts } from '../bench/scale/series';

describe('bench/scale series count', () => {
  let provider: FakeProvider;
  beforeAll(async () => {
    provider = await startFakeProvider({ port: 0, recordRequests: false });
  });
  afterAll(async () => {
    await provider?.close();
  });

  it('matches users × features for llm_user_* and models × features for the per-model families', async () => {
    const result = await measureSeries(provider.url, { users: 200, features: 3, models: 2 }, 8);
    expect(result.mismatches).toEqual([]);
    const counts = { ...result.counts };
    // One per process: the resource's attributes.
    expect(counts.target_info).toEqual({ series: 1, labelSets: 1 });
    delete counts.target_info;
    expect(counts).toEqual(expectedCounts(200, 3, 2));
    expect(counts.llm_user_requests_total).toEqual({ series: 600, labelSets: 600 });
    expect(counts.llm_requests_total).toEqual({ series: 6, labelSets: 6 });
  });
});
