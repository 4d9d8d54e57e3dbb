import type { LlmFinopsInstrumentationConfig, SidecarFailMode, UserIdMode } from './types';

const USER_ID_MODES: readonly UserIdMode[] = ['raw', 'hash', 'off'];
const FAIL_MODES: readonly SidecarFailMode[] = ['open', 'closed'];

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
      ...sidecarFromEnv(env, problems),
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

/** The budget sidecar variables (LLM_FINOPS_SIDECAR_*, LLM_FINOPS_RESERVE_OUTPUT_TOKENS). */
function sidecarFromEnv(
  env: NodeJS.ProcessEnv,
  problems: string[],
): Partial<LlmFinopsInstrumentationConfig> {
  let sidecarUrl = env.LLM_FINOPS_SIDECAR_URL?.trim() || undefined;
  if (sidecarUrl && !isHttpUrl(sidecarUrl)) {
    problems.push(
      `LLM_FINOPS_SIDECAR_URL=${sidecarUrl}: not an http(s) URL; budgets are not enforced`,
    );
    sidecarUrl = undefined;
  }
  let sidecarFailMode: SidecarFailMode = 'open';
  const failMode = env.LLM_FINOPS_SIDECAR_FAIL_MODE?.trim().toLowerCase();
  if (failMode) {
    if ((FAIL_MODES as string[]).includes(failMode)) sidecarFailMode = failMode as SidecarFailMode;
    else
      problems.push(
        `LLM_FINOPS_SIDECAR_FAIL_MODE=${failMode}: expected open or closed; using open`,
      );
  }
  return {
    sidecarUrl,
    sidecarToken: env.LLM_FINOPS_SIDECAR_TOKEN || undefined,
    sidecarFailMode,
    sidecarTimeoutMs: intFromEnv(env, 'LLM_FINOPS_SIDECAR_TIMEOUT_MS', 500, 1, problems),
    reserveOutputTokens: intFromEnv(env, 'LLM_FINOPS_RESERVE_OUTPUT_TOKENS', 1024, 0, problems),
  };
}

function isHttpUrl(text: string): boolean {
  try {
    return /^https?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}

function intFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  problems: string[],
): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const n = Number(text);
  if (Number.isInteger(n) && n >= min) return n;
  problems.push(`${name}=${text}: expected an integer >= ${min}; using ${fallback}`);
  return fallback;
}
