/**
 * Bounded-concurrency helpers for batch S3 operations.
 */

/**
 * Run `fn` over `items` with at most `limit` calls in flight.
 *
 * Resolves when every call has settled; the first rejection (if any) is
 * re-thrown after all calls finished, so no work is left running behind the
 * caller's back.
 *
 * @param items - the inputs
 * @param limit - the maximum number of concurrent calls (at least 1)
 * @param fn - the async work for one item
 * @returns the results, in input order
 */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let firstError: unknown = undefined;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
        }
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < Math.max(1, Math.min(limit, items.length)); i++) {
    workers.push(worker());
  }
  await Promise.all(workers);
  if (failed) {
    throw firstError;
  }
  return results;
}
