import { describe, expect, it } from 'vitest';
import { endpointOf } from '../instrumentation/providers/endpoint';

describe('provider from the client baseURL', () => {
  it.each([
    ['https://api.openai.com/v1', 'openai', 'api.openai.com', 443],
    ['https://my-res.openai.azure.com/openai', 'azure.ai.openai', 'my-res.openai.azure.com', 443],
    [
      'https://my-res.cognitiveservices.azure.com/openai',
      'azure.ai.openai',
      'my-res.cognitiveservices.azure.com',
      443,
    ],
    ['https://openrouter.ai/api/v1', 'openrouter', 'openrouter.ai', 443],
    ['https://api.groq.com/openai/v1', 'groq', 'api.groq.com', 443],
    ['https://api.anthropic.com', 'anthropic', 'api.anthropic.com', 443],
    [
      'https://bedrock-runtime.us-east-1.amazonaws.com',
      'aws.bedrock',
      'bedrock-runtime.us-east-1.amazonaws.com',
      443,
    ],
    [
      'https://us-east5-aiplatform.googleapis.com/v1',
      'gcp.vertex_ai',
      'us-east5-aiplatform.googleapis.com',
      443,
    ],
    ['http://localhost:8000/v1', undefined, 'localhost', 8000],
    ['not a url', undefined, undefined, undefined],
  ])('%s → %s', (baseURL, provider, address, port) => {
    expect(endpointOf({ baseURL }, {})).toEqual({ provider, address, port });
  });

  it('uses LLM_FINOPS_PROVIDER_HOSTS for gateways, by host:port or host', () => {
    expect(
      endpointOf(
        { baseURL: 'http://llm-gateway.internal:4000/v1' },
        { 'llm-gateway.internal': 'openai' },
      ).provider,
    ).toBe('openai');
    expect(
      endpointOf(
        { baseURL: 'http://127.0.0.1:4000' },
        { '127.0.0.1:4000': 'anthropic', '127.0.0.1': 'openai' },
      ).provider,
    ).toBe('anthropic');
  });

  it('does not take a look-alike host for a known one', () => {
    expect(
      endpointOf({ baseURL: 'https://api.openai.com.evil.example/v1' }, {}).provider,
    ).toBeUndefined();
    expect(
      endpointOf({ baseURL: 'https://notapi.anthropic.com.example' }, {}).provider,
    ).toBeUndefined();
  });
});
