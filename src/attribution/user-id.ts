import { createHmac } from 'node:crypto';

/** How user ids appear in telemetry (LLM_FINOPS_USER_ID_MODE). */
export type UserIdMode = 'raw' | 'hash' | 'off';

const CACHE_LIMIT = 50_000;

/**
 * Maps a user id to the value recorded in telemetry. `hash` is an HMAC-SHA256 keyed with
 * LLM_FINOPS_USER_ID_HASH_KEY, so the same id gives the same label in every process (and in the
 * sidecar, which hashes the `x-llm-user` header the same way) while ids cannot be recovered by
 * hashing a list of guesses without the key.
 */
export class UserIdTransform {
  private readonly cache = new Map<string, string>();

  constructor(
    readonly mode: UserIdMode,
    private readonly key: string = '',
  ) {}

  /** Undefined in `off` mode: the user is then not recorded anywhere. */
  apply(user: string): string | undefined {
    if (this.mode === 'raw') return user;
    if (this.mode === 'off') return undefined;
    let hashed = this.cache.get(user);
    if (hashed === undefined) {
      hashed = 'u_' + createHmac('sha256', this.key).update(user).digest('hex').slice(0, 24);
      // A bounded memo: HMAC costs microseconds, and user ids repeat.
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(user, hashed);
    }
    return hashed;
  }
}
