/**
 * The demo app: an ordinary Express service with three LLM features (chat, summarise, agent).
 * Its only llm-finops code is the middleware reading the x-llm-* headers, the outcome and cache
 * reports and the 402 error handler; pricing, attribution and budget reservations come from
 * `node --require llm-finops/register` (LLM_FINOPS_SIDECAR_URL).
 *
 *   PORT (8080), HOST (127.0.0.1), FAKE_PROVIDER_URL: prints {"url": ...} once listening.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { budgetErrorHandler, expressMiddleware } from 'llm-finops';
import { agentHandler } from './agent';
import { chatHandler } from './chat';
import { providerClients } from './clients';
import { ResponseCache } from './response-cache';
import { summariseHandler } from './summarise';

const host = process.env.HOST ?? '127.0.0.1';
const { openai, anthropic } = providerClients(process.env.FAKE_PROVIDER_URL ?? '');

const app = express();
app.use(express.json({ limit: '1mb' }));
app.get('/healthz', (_req, res) => {
  res.send('ok');
});
app.use(expressMiddleware());
app.post('/chat', chatHandler(openai));
app.post('/summarise', summariseHandler(anthropic, new ResponseCache()));
app.post('/agent', agentHandler(openai));
app.use(budgetErrorHandler());
// Anything else (a provider error) is a 502: the demo's traffic counts them.
app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  res.status(502).json({ error: err instanceof Error ? err.message : String(err) });
});

const server = app.listen(Number(process.env.PORT ?? 8080), host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(JSON.stringify({ url: `http://${host}:${port}` }));
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
