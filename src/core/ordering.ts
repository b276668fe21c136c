/** The fields that decide which task goes first. */
export interface Orderable {
  id: number;
  priority: number;
  createdAt: number;
}

/** Dispatch order: higher priority first, then older first, then lower id first (a total order). */
export function compareForDispatch(a: Orderable, b: Orderable): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id - b.id;
}

/** Sorted copy; skips the sort when the input is already in order (the store usually returns it so). */
export function sortForDispatch<T extends Orderable>(tasks: readonly T[]): T[] {
  return isSortedForDispatch(tasks) ? [...tasks] : [...tasks].sort(compareForDispatch);
}

/**
 * The tasks in dispatch order, produced lazily: a caller that stops after the first few pays for a
 * heap build (linear) and a few pops instead of a full sort. Input already in order is walked as is.
 */
export function* inDispatchOrder<T extends Orderable>(tasks: readonly T[]): Generator<T> {
  if (isSortedForDispatch(tasks)) {
    yield* tasks;
    return;
  }
  const heap = [...tasks];
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i, heap.length);
  for (let size = heap.length; size > 0; size--) {
    const top = heap[0]!;
    heap[0] = heap[size - 1]!;
    siftDown(heap, 0, size - 1);
    yield top;
  }
}

function isSortedForDispatch(tasks: readonly Orderable[]): boolean {
  for (let i = 1; i < tasks.length; i++) if (compareForDispatch(tasks[i - 1]!, tasks[i]!) > 0) return false;
  return true;
}

function siftDown<T extends Orderable>(heap: T[], start: number, size: number): void {
  let i = start;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= size) return;
    const right = left + 1;
    const first = right < size && compareForDispatch(heap[right]!, heap[left]!) < 0 ? right : left;
    if (compareForDispatch(heap[first]!, heap[i]!) >= 0) return;
    [heap[i], heap[first]] = [heap[first]!, heap[i]!];
    i = first;
  }
}
