import type { StoreOps } from '../store/store.js';

/**
 * The id of the newest event (0 when there is none). The store reads events oldest first only, so this
 * gallops forward and then bisects on "is there an event after x?": about 2·log2(n) indexed reads,
 * correct even when ids have gaps.
 */
export async function latestEventId(store: Pick<StoreOps, 'listEvents'>): Promise<number> {
  const firstAfter = async (id: number) => (await store.listEvents({ afterId: id, limit: 1 }))[0];
  let low = 0; // the newest id is at least this
  let high: number; // no event has an id above this
  for (let step = 1024; ; step *= 2) {
    const found = await firstAfter(low + step);
    if (!found) {
      high = low + step;
      break;
    }
    low = found.id;
  }
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const found = await firstAfter(middle);
    if (found) low = found.id;
    else high = middle;
  }
  return low;
}
