// `node --import llm-finops/register app.mjs`: the ESM loader hook lets us patch the SDKs'
// ESM builds too; it is limited to the two SDK packages so other imports pay nothing.
import { register as registerLoader } from 'node:module';
import { createRequire } from 'node:module';

if (process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true') {
  registerLoader('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: ['openai', '@anthropic-ai/sdk'] },
  });
}
// The CommonJS build is the one `import 'llm-finops'` loads too, so both share one state.
createRequire(import.meta.url)('./register.js');
