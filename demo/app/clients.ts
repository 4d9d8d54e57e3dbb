import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

/** The provider SDK clients, pointed at FAKE_PROVIDER_URL (the demo's fake provider). */
export function providerClients(providerUrl: string): { openai: OpenAI; anthropic: Anthropic } {
  return {
    // No SDK retries: a budget denial or a provider error shows as it happens.
    openai: new OpenAI({ apiKey: 'demo', baseURL: `${providerUrl}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: 'demo', baseURL: providerUrl, maxRetries: 0 }),
  };
}
