/**
 * The assistant text of synthetic replies, pre-split into the pieces a stream sends as content
 * deltas. Default texts are cached per chunk count, so a 200-chunk benchmark stream costs no
 * string building per request.
 */

export const DEFAULT_CONTENT = 'This is a synthetic answer from the llm-finops fake provider.';

const WORDS = [
  'Synthetic',
  'tokens',
  'flow',
  'from',
  'the',
  'fake',
  'provider',
  'so',
  'costs',
  'can',
  'be',
  'measured',
];

const DEFAULT_PIECES: readonly string[] = splitWords(DEFAULT_CONTENT);
const defaultPieces = new Map<number, readonly string[]>();

/** Splits text at word starts: "a b c" → ["a", " b", " c"]. */
function splitWords(text: string): string[] {
  const pieces = text.match(/\s*\S+|\s+$/g);
  return pieces && pieces.length > 0 ? pieces : [text];
}

/** Splits text into exactly `count` consecutive pieces by code point (some may be empty). */
function splitEvenly(text: string, count: number): string[] {
  const chars = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * chars.length) / count);
    const end = Math.floor(((i + 1) * chars.length) / count);
    pieces.push(chars.slice(start, end).join(''));
  }
  return pieces;
}

/** `count` word pieces cycling a fixed vocabulary. */
function generatedPieces(count: number): readonly string[] {
  let pieces = defaultPieces.get(count);
  if (!pieces) {
    pieces = Array.from(
      { length: count },
      (_, i) => (i === 0 ? '' : ' ') + WORDS[i % WORDS.length],
    );
    if (defaultPieces.size < 64) defaultPieces.set(count, pieces);
  }
  return pieces;
}

/**
 * The content deltas of a reply. With no `chunks`, the text is split per word; with `chunks`,
 * there are exactly that many pieces (a generated text when no `content` is given).
 */
export function contentPieces(
  content: string | undefined,
  chunks: number | undefined,
): readonly string[] {
  const count = chunks === undefined ? undefined : Math.max(1, Math.floor(chunks));
  if (content === undefined) {
    return count === undefined ? DEFAULT_PIECES : generatedPieces(count);
  }
  return count === undefined ? splitWords(content) : splitEvenly(content, count);
}
