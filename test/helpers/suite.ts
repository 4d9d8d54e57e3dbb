import * as anthropicModule from '@anthropic-ai/sdk';
import Anthropic from '@anthropic-ai/sdk';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../../demo/fake-provider';
import { startHarness, type Harness } from './harness';

/** What each test of an instrumented suite gets, fresh per test (the provider per file). */
export interface Suite {
  fake: FakeProvider;
  h: Harness;
  openai: OpenAI;
  anthropic: Anthropic;
}

/**
 * Registers the hooks every in-process SDK suite needs: one fake provider per file, and per test
 * a fresh harness, both SDKs patched, and real clients pointed at the fake provider.
 */
export function instrumentedSuite(): Suite {
  const suite = {} as Suite;
  beforeAll(async () => {
    suite.fake = await startFakeProvider();
  });
  afterAll(async () => {
    await suite.fake.close();
  });
  beforeEach(() => {
    suite.fake.reset();
    suite.h = startHarness();
    suite.h.instrumentation.patchModule('openai', openaiModule);
    suite.h.instrumentation.patchModule('@anthropic-ai/sdk', anthropicModule);
    suite.openai = new OpenAI({ apiKey: 'test', baseURL: suite.fake.openaiBaseURL, maxRetries: 0 });
    suite.anthropic = new Anthropic({
      apiKey: 'test',
      baseURL: suite.fake.anthropicBaseURL,
      maxRetries: 0,
    });
  });
  return suite;
}
