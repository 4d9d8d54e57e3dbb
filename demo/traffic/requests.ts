import type { Feature } from './population';

/** The JSON body of one request of `feature`, of realistic size (billed at ~4 chars a token). */
export function requestBody(feature: Feature, random: () => number): Record<string, unknown> {
  switch (feature) {
    case 'chat': {
      // Most questions are short; one in ten pastes a long log (standard tier), one in twenty
      // is marked hard (premium tier).
      const long = random() < 0.1;
      return {
        text: sentence(long ? 7_000 + 6_000 * random() : 150 + 1_200 * random()),
        hard: random() < 0.05,
      };
    }
    case 'summarise': {
      // Popular documents come back often: the response cache answers them.
      const doc = Math.floor(40 * random() ** 2.5);
      return { docId: `doc-${doc}`, text: sentence(2_500 + 150 * doc) };
    }
    case 'agent':
      return {
        text: sentence(300 + 600 * random()),
        steps: 2 + Math.floor(3 * random()),
        difficulty: 0.1 + 0.3 * random(),
      };
  }
}

/** The runaway user's request: a long agent task, retried in a loop by a broken client. */
export function runawayBody(): Record<string, unknown> {
  return { text: sentence(2_000), steps: 6, difficulty: 0.5 };
}

const WORDS = (
  'the deploy of the eu gateway failed twice after the config change and customers saw ' +
  'errors while the on call engineer rolled back'
).split(' ');

function sentence(chars: number): string {
  let out = '';
  for (let i = 0; out.length < chars; i++) out += `${WORDS[i % WORDS.length]} `;
  return out.slice(0, Math.round(chars));
}
