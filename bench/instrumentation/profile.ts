/** Summarises the workers' V8 CPU profiles: self time per function, per call. */
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export type Category = 'llm-finops' | 'peer' | 'opentelemetry' | 'async-hooks' | 'gc' | 'other';

export interface FunctionTime {
  readonly name: string;
  /** Script and 1-based line, relative to the repository. */
  readonly where: string;
  readonly category: Category;
  readonly selfUs: number;
}

function categoryOf(name: string, url: string): Category {
  if (url.startsWith('dist/instrumentation/') || url.startsWith('dist/src/')) return 'llm-finops';
  // The other GenAI instrumentations of the side-by-side run.
  if (/\/(@traceloop|openlit|@opentelemetry\/instrumentation-openai)\//.test(url)) return 'peer';
  if (url.includes('/@opentelemetry/')) return 'opentelemetry';
  if (url.includes('async_hooks')) return 'async-hooks';
  if (name === '(garbage collector)') return 'gc';
  return 'other';
}

/** Self time of every function in the profile, in µs per call, highest first. */
export function selfTimes(file: string, calls: number, root: string): FunctionTime[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const totals = new Map<string, FunctionTime>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id);
    if (!frame || frame.functionName === '(idle)') return;
    const url = frame.url.replace(`file://${root}/`, '').replace(`${root}/`, '');
    const name = frame.functionName || '(anonymous)';
    const where = url ? `${url}:${frame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const previous = totals.get(key);
    const selfUs = (previous?.selfUs ?? 0) + (profile.timeDeltas[i] ?? 0) / calls;
    totals.set(key, { name, where, category: categoryOf(name, url), selfUs });
  });
  return [...totals.values()].sort((a, b) => b.selfUs - a.selfUs);
}

/** µs per call by category. */
export function byCategory(times: readonly FunctionTime[]): Record<Category, number> {
  const out: Record<Category, number> = {
    'llm-finops': 0,
    peer: 0,
    opentelemetry: 0,
    'async-hooks': 0,
    gc: 0,
    other: 0,
  };
  for (const t of times) out[t.category] += t.selfUs;
  return out;
}

/** Per-function difference instrumented − uninstrumented, largest first. */
export function difference(
  on: readonly FunctionTime[],
  off: readonly FunctionTime[],
): FunctionTime[] {
  const base = new Map(off.map((t) => [`${t.name}@${t.where}`, t.selfUs]));
  return on
    .map((t) => ({ ...t, selfUs: t.selfUs - (base.get(`${t.name}@${t.where}`) ?? 0) }))
    .sort((a, b) => b.selfUs - a.selfUs);
}
