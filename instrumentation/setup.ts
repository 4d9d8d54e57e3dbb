import { configFromEnv } from './config';
import { LlmFinopsInstrumentation } from './instrumentation';
import { appHasOwnProviders, getRuntime, Runtime, setRuntime } from './runtime';
import { startOwnSdk } from './telemetry/sdk';

let instrumentation: LlmFinopsInstrumentation | undefined;

/**
 * What `--require llm-finops/register` does: read the environment, start an SDK unless the app
 * has one, and hook the OpenAI and Anthropic SDKs. Idempotent; a no-op with OTEL_SDK_DISABLED=true.
 */
export function register(
  env: NodeJS.ProcessEnv = process.env,
): LlmFinopsInstrumentation | undefined {
  if (instrumentation) return instrumentation;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const { config, problems } = configFromEnv(env);
  for (const problem of problems) process.emitWarning(`llm-finops: ${problem}`, 'LlmFinopsWarning');
  const runtime = new Runtime(config, appHasOwnProviders() ? undefined : startOwnSdk(env));
  setRuntime(runtime);
  instrumentation = new LlmFinopsInstrumentation(config);
  // Flush (not shut down: the app may still be working) when the event loop drains, so a short
  // script's last calls are exported. Our timers and server are unref'd and never hold it open.
  process.once('beforeExit', () => {
    runtime.sdk?.meterProvider.forceFlush().catch(() => undefined);
    runtime.sdk?.tracerProvider.forceFlush().catch(() => undefined);
  });
  return instrumentation;
}

export { getRuntime };
