// Whether the daemon answers, as every part of the page sees it. Requests and the live feed report
// here; the banner reads it; views reload when the daemon comes back.

export interface ConnectionState {
  /** False once a request failed or the live feed stayed down; true again at the next answer. */
  reachable: boolean;
  /** When the daemon stopped answering. */
  downSince: number | null;
  /** The session is gone (401): a new login link is needed. */
  signedOut: boolean;
  /** Bumped each time the daemon comes back: everything shown may be stale. */
  epoch: number;
}

type Listener = (state: ConnectionState) => void;

let state: ConnectionState = { reachable: true, downSince: null, signedOut: false, epoch: 0 };
const listeners = new Set<Listener>();

function update(next: ConnectionState): void {
  if (next.reachable === state.reachable && next.signedOut === state.signedOut && next.epoch === state.epoch) return;
  state = next;
  for (const listener of listeners) listener(state);
}

export const connection = {
  get: () => state,
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  reachable(): void {
    if (state.reachable && !state.signedOut) return;
    update({ reachable: true, downSince: null, signedOut: false, epoch: state.reachable ? state.epoch : state.epoch + 1 });
    stopProbing();
  },
  unreachable(): void {
    if (!state.reachable) return;
    update({ ...state, reachable: false, downSince: Date.now() });
    startProbing();
  },
  signedOut(): void {
    update({ ...state, reachable: true, downSince: null, signedOut: true });
  },
};

/** While the daemon is away, ask its public health route every few seconds whether it is back. */
const PROBE_MS = 2000;
let probe: ReturnType<typeof setInterval> | null = null;

function startProbing(): void {
  probe ??= setInterval(() => {
    fetch('/healthz', { cache: 'no-store' }).then(
      (response) => {
        if (response.ok) connection.reachable();
      },
      () => undefined,
    );
  }, PROBE_MS);
}

function stopProbing(): void {
  if (probe !== null) clearInterval(probe);
  probe = null;
}
