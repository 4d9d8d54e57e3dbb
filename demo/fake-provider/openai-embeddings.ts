/**
 * POST /v1/embeddings: a `list` of `embedding` objects. The openai SDK asks for
 * `encoding_format: "base64"` (little-endian float32) unless the caller picks one, so both
 * encodings are served. Vectors are deterministic and serialised once per dimension count.
 */
import {
  type Answer,
  type SynthesisInput,
  JSON_TYPE,
  providerHeaders,
  responseModel,
} from './answer';
import { estimateEmbeddingInputs } from './tokens';
import { embeddingsUsage, requestedMalformedUsage } from './usage';

const DEFAULT_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-large': 3072,
};

interface EncodedVector {
  float: string;
  base64: string;
}

const vectors = new Map<number, EncodedVector>();

/** A unit-length, deterministic vector, JSON- and base64-encoded. */
function encodedVector(dimensions: number): EncodedVector {
  let encoded = vectors.get(dimensions);
  if (!encoded) {
    const values = new Float32Array(dimensions);
    const norm = Math.sqrt(dimensions);
    for (let i = 0; i < dimensions; i++) values[i] = (i % 2 === 0 ? 1 : -1) / norm;
    encoded = {
      float: JSON.stringify(Array.from(values)),
      base64: Buffer.from(values.buffer).toString('base64'),
    };
    if (vectors.size < 16) vectors.set(dimensions, encoded);
  }
  return encoded;
}

function dimensionsOf(body: Record<string, unknown>): number {
  const requested = body.dimensions;
  if (typeof requested === 'number' && Number.isInteger(requested) && requested > 0) {
    return Math.min(requested, 16_384);
  }
  return (typeof body.model === 'string' && DEFAULT_DIMENSIONS[body.model]) || 1536;
}

export function embeddingsAnswer(input: SynthesisInput): Answer {
  const { body, reply } = input;
  const model = JSON.stringify(responseModel(input));
  const perInput = estimateEmbeddingInputs(body.input);
  const vector = encodedVector(dimensionsOf(body));
  const embedding = body.encoding_format === 'base64' ? `"${vector.base64}"` : vector.float;
  const data = perInput
    .map((_, index) => `{"object":"embedding","index":${index},"embedding":${embedding}}`)
    .join(',');
  const usage =
    requestedMalformedUsage(reply.malformedUsage, 'embeddings') ??
    embeddingsUsage({ input: perInput.reduce((a, b) => a + b, 0), output: 0 }, reply.usage);
  return {
    status: 200,
    headers: providerHeaders('openai', JSON_TYPE),
    body: `{"object":"list","data":[${data}],"model":${model},"usage":${JSON.stringify(usage)}}`,
  };
}
