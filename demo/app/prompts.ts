/**
 * Prompt text of realistic size: the fake provider counts about four characters per token, so
 * these sizes are what the calls are billed for.
 */

const POLICY =
  'You are the assistant of Acme Cloud. Answer in the language of the question, cite the ' +
  'relevant help-center article, never reveal internal tooling, escalate billing disputes to a ' +
  'human, and keep answers under 200 words unless the user asks for detail. ';

/** About 600 tokens of system prompt, as product prompts tend to be. */
export const CHAT_SYSTEM_PROMPT = POLICY.repeat(10);

export const SUMMARISE_SYSTEM_PROMPT =
  'Summarise the document for a busy engineering manager: five bullet points, decisions and ' +
  'owners first, no preamble. '.repeat(4);

export const AGENT_INSTRUCTIONS =
  'You are an operations agent. Plan, call one tool per step, read its result, and stop when ' +
  'the task is done. Prefer read-only tools; ask before any change. '.repeat(6);

/** Function tools offered to the agent: their JSON definitions are billed as input. */
export const AGENT_TOOLS = ['search_tickets', 'read_runbook', 'query_metrics', 'draft_reply'].map(
  (name) => ({
    type: 'function' as const,
    name,
    description: `${name.replace('_', ' ')} in the Acme Cloud workspace; returns JSON.`,
    parameters: {
      type: 'object',
      properties: { query: { type: 'string' }, limit: { type: 'integer' } },
      required: ['query'],
      additionalProperties: false,
    },
    strict: true,
  }),
);

/** A tool's (simulated) result: a few hundred tokens of JSON that the next step reads. */
export function toolResult(tool: string, step: number): string {
  const rows = Array.from({ length: 6 }, (_, i) => ({
    id: `${tool}-${step}-${i}`,
    title: `Result ${i} of ${tool} for step ${step}`,
    excerpt: 'Customer reports intermittent 502s on the EU gateway after the 14:02 deploy.',
  }));
  return JSON.stringify({ tool, rows });
}
