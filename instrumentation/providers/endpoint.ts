/** Provider names (OTel `gen_ai.provider.name` values where semconv has one) by API host. */
const KNOWN_HOSTS: readonly [RegExp, string][] = [
  [/(^|\.)api\.openai\.com$/, 'openai'],
  [/\.openai\.azure\.com$|\.cognitiveservices\.azure\.com$/, 'azure.ai.openai'],
  [
    /\.services\.ai\.azure\.com$|\.models\.ai\.azure\.com$|\.inference\.ai\.azure\.com$/,
    'azure.ai.inference',
  ],
  [/(^|\.)openrouter\.ai$/, 'openrouter'],
  [/(^|\.)api\.groq\.com$/, 'groq'],
  [/(^|\.)api\.deepseek\.com$/, 'deepseek'],
  [/(^|\.)api\.x\.ai$/, 'x_ai'],
  [/(^|\.)api\.mistral\.ai$/, 'mistral_ai'],
  [/(^|\.)api\.perplexity\.ai$/, 'perplexity'],
  [/(^|\.)api\.together\.xyz$/, 'together_ai'],
  [/(^|\.)api\.fireworks\.ai$/, 'fireworks_ai'],
  [/(^|\.)generativelanguage\.googleapis\.com$/, 'gcp.gemini'],
  [/(^|[.-])aiplatform\.googleapis\.com$/, 'gcp.vertex_ai'],
  [/^bedrock-runtime(-fips)?\.[a-z0-9-]+\.amazonaws\.com$/, 'aws.bedrock'],
  [/(^|\.)api\.anthropic\.com$/, 'anthropic'],
];

export interface Endpoint {
  /** Undefined for hosts we do not know (a local server, a gateway): the catalog decides then. */
  readonly provider: string | undefined;
  readonly address: string | undefined;
  readonly port: number | undefined;
}

const cache = new WeakMap<object, Endpoint>();

/** Where an SDK client sends its requests, from its `baseURL`; memoised per client. */
export function endpointOf(
  client: object | undefined,
  overrides: Readonly<Record<string, string>>,
): Endpoint {
  if (!client) return { provider: undefined, address: undefined, port: undefined };
  let endpoint = cache.get(client);
  if (!endpoint) {
    endpoint = parse((client as { baseURL?: unknown }).baseURL, overrides);
    cache.set(client, endpoint);
  }
  return endpoint;
}

function parse(baseURL: unknown, overrides: Readonly<Record<string, string>>): Endpoint {
  let url: URL;
  try {
    url = new URL(String(baseURL));
  } catch {
    return { provider: undefined, address: undefined, port: undefined };
  }
  const host = url.hostname.toLowerCase();
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const provider =
    overrides[`${host}:${port}`] ??
    overrides[host] ??
    KNOWN_HOSTS.find(([re]) => re.test(host))?.[1];
  return { provider, address: host, port };
}
