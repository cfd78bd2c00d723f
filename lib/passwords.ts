import argon2 from 'argon2';

// argon2id with OWASP's recommended floor (19 MiB, 2 passes, 1 lane): ~20 ms a hash here,
// slow enough to make offline guessing expensive, fast enough for 2-core login bursts.
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the same time as a real verify, so unknown logins cannot be told apart by timing. */
  verifyAgainstNothing(password: string): Promise<false>;
}

export function createPasswordHasher(options: { memoryKib: number }): PasswordHasher {
  const params = { type: argon2.argon2id, memoryCost: options.memoryKib, timeCost: 2, parallelism: 1 };
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => argon2.hash(password, params),
    verify: async (hash, password) => {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false; // a malformed stored hash never authenticates
      }
    },
    async verifyAgainstNothing(password) {
      dummy ??= argon2.hash('no-such-user', params);
      await argon2.verify(await dummy, password);
      return false;
    },
  };
}
