/**
 * An Express app whose /reports route does not call an LLM itself: it queues a job that a worker
 * runs later with LLM calls. So that an over-budget user hears "no" now, with the same 402 upgrade
 * prompt an LLM call would give, the route asks the budget sidecar's /v1/check first.
 *
 *   npm run build
 *   LLM_FINOPS_SIDECAR_URL=http://127.0.0.1:8787 PORT=3000 \
 *     node --require llm-finops/register dist/examples/express-402/app.js
 */
import express, { type Express } from 'express';
import {
  BudgetExceededError,
  budgetErrorHandler,
  expressMiddleware,
  type BudgetProblem,
} from 'llm-finops';

/** Throws BudgetExceededError when the sidecar denies `user` the `feature` (HTTP 402). */
async function checkBudget(sidecarUrl: string, user: string, feature: string): Promise<void> {
  const query = new URLSearchParams({ user, feature });
  const res = await fetch(`${sidecarUrl}/v1/check?${query.toString()}`);
  if (res.status === 402) throw new BudgetExceededError((await res.json()) as BudgetProblem);
  if (!res.ok) throw new Error(`budget check failed: HTTP ${res.status} ${await res.text()}`);
}

function createApp(sidecarUrl: string): Express {
  const app = express();
  // Attributes the LLM calls made while handling a request to its x-llm-user / x-llm-feature.
  app.use(expressMiddleware());

  app.post('/reports', async (req, res) => {
    const user = req.get('x-llm-user') ?? 'anonymous';
    await checkBudget(sidecarUrl, user, 'reports');
    // ... enqueue the job for the worker here ...
    res.status(202).json({ queued: true, user });
  });

  // A BudgetExceededError (from checkBudget or from an instrumented LLM call) becomes the 402
  // problem+json answer with Retry-After and x-should-retry: false.
  app.use(budgetErrorHandler());
  return app;
}

const sidecarUrl = process.env.LLM_FINOPS_SIDECAR_URL ?? 'http://127.0.0.1:8787';
const port = Number(process.env.PORT ?? 3000);
createApp(sidecarUrl).listen(port, () => console.log(`listening on port ${port}`));
