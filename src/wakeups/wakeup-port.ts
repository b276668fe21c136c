import type { Wakeup } from '../core/wakeup.js';

/**
 * The wake-up port: a daemon tells every daemon sharing its database (itself included) that work may
 * start, and each listening daemon ticks at once. Best effort by design — a lost wake-up costs one
 * tick interval, never a task — so notifying never throws into the engine.
 */
export interface WakeupBus {
  /** Names this bus in what it sends (`Wakeup.origin`): different for every bus, in every process. */
  readonly origin: string;
  /** Sends `wakeup` to every listener; call it once the write it describes has committed. */
  notify(wakeup: Wakeup): void;
  /** Calls `onWakeup` for every wake-up any host sends, until the subscription is closed. */
  listen(onWakeup: (wakeup: Wakeup) => void, options?: ListenOptions): WakeupSubscription;
  /** Resolves when every notification sent so far has been handed to the database (or failed). */
  flushed(): Promise<void>;
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Each time the listener is (again) listening: after the first connect and after every reconnect. */
  onListening?: () => void;
  /** The connection failed or dropped; the listener reconnects by itself. */
  onError?: (error: Error) => void;
}

export interface WakeupSubscription {
  close(): Promise<void>;
}
