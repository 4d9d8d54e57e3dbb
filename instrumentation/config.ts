import type { LlmFinopsInstrumentationConfig, UserIdMode } from './types';

const USER_ID_MODES: readonly UserIdMode[] = ['raw', 'hash', 'off'];

/**
 * Reads the instrumentation's own variables. Invalid values are reported through `problems`
 * (logged by the caller) and replaced by the default: configuration mistakes must not stop the app.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): {
  config: LlmFinopsInstrumentationConfig;
  problems: string[];
} {
  const problems: string[] = [];
  let userIdMode: UserIdMode = 'raw';
  const mode = env.LLM_FINOPS_USER_ID_MODE?.trim().toLowerCase();
  if (mode) {
    if ((USER_ID_MODES as string[]).includes(mode)) userIdMode = mode as UserIdMode;
    else
      problems.push(
        `LLM_FINOPS_USER_ID_MODE=${mode}: expected one of ${USER_ID_MODES.join(', ')}; using raw`,
      );
  }
  const hashKey = env.LLM_FINOPS_USER_ID_HASH_KEY;
  if (userIdMode === 'hash' && !hashKey) {
    problems.push(
      'LLM_FINOPS_USER_ID_MODE=hash needs LLM_FINOPS_USER_ID_HASH_KEY (a secret shared with the sidecar); user ids are not recorded until it is set',
    );
    userIdMode = 'off';
  }
  const streamUsage = env.LLM_FINOPS_STREAM_USAGE?.trim().toLowerCase();
  if (streamUsage && streamUsage !== 'inject' && streamUsage !== 'off') {
    problems.push(`LLM_FINOPS_STREAM_USAGE=${streamUsage}: expected inject or off; using inject`);
  }
  const providerHosts: Record<string, string> = {};
  for (const pair of (env.LLM_FINOPS_PROVIDER_HOSTS ?? '').split(',')) {
    if (!pair.trim()) continue;
    const [host, name] = pair.split('=').map((s) => s.trim());
    if (host && name) providerHosts[host.toLowerCase()] = name;
    else problems.push(`LLM_FINOPS_PROVIDER_HOSTS: "${pair}" is not host=provider`);
  }
  return {
    config: {
      pricingFile: env.LLM_FINOPS_PRICING_FILE || undefined,
      baselineModel: env.LLM_FINOPS_BASELINE_MODEL || 'gpt-4',
      userIdMode,
      userIdHashKey: hashKey,
      injectStreamUsage: streamUsage !== 'off',
      providerHosts,
    },
    problems,
  };
}
