/**
 * Deterministic token estimates from a request body: about four characters per token over the
 * prompt text, and a fixed default output capped by the request's max tokens.
 */

/** Keys whose string values are structure, not prompt text. */
const STRUCTURAL_KEYS = new Set(['role', 'type', 'id', 'cache_control', 'detail', 'format']);

function countChars(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length;
  if (depth > 32 || value === null || typeof value !== 'object') return 0;
  let total = 0;
  if (Array.isArray(value)) {
    for (const item of value) total += countChars(item, depth + 1);
    return total;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!STRUCTURAL_KEYS.has(key)) total += countChars(item, depth + 1);
  }
  return total;
}

/** ceil(chars / 4), at least 1, over the given prompt-bearing fields of the body. */
export function estimateInputTokens(
  body: Record<string, unknown>,
  fields: readonly string[],
): number {
  let chars = 0;
  for (const field of fields) chars += countChars(body[field]);
  return Math.max(1, Math.ceil(chars / 4));
}

/** One estimate per embeddings input (string or array of strings). */
export function estimateEmbeddingInputs(input: unknown): number[] {
  const items: unknown[] = Array.isArray(input) ? input : [input];
  // Token-id arrays (number[] or number[][]) are already tokens.
  if (items.length > 0 && items.every((item) => typeof item === 'number')) return [items.length];
  return items.map((item) =>
    Array.isArray(item) ? item.length : Math.max(1, Math.ceil(countChars(item) / 4)),
  );
}

/** min(maxTokens, defaultOutput) when the request caps output, else defaultOutput. */
export function estimateOutputTokens(maxTokens: unknown, defaultOutput: number): number {
  if (typeof maxTokens === 'number' && Number.isFinite(maxTokens) && maxTokens > 0) {
    return Math.min(Math.floor(maxTokens), defaultOutput);
  }
  return defaultOutput;
}
