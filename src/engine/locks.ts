const tails = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after every earlier call with the same key has settled: a per-key queue within this
 * process (one merge per project at a time; one fetch into a clone at a time).
 */
export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  const current = previous.catch(() => undefined).then(fn);
  tails.set(key, current);
  try {
    return await current;
  } finally {
    if (tails.get(key) === current) tails.delete(key);
  }
}
