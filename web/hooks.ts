import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { connection, type ConnectionState } from './connection.js';
import { liveFeed } from './live-feed.js';
import type { OrchEvent } from './types.js';

export interface Resource<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

export interface ResourceOptions {
  /** Reload when a live event matches (a burst of events makes one reload). */
  refreshOn?: (event: OrchEvent) => boolean;
  /** Reload this often as well, for figures no event announces (ages, spend). */
  intervalMs?: number;
}

const COALESCE_MS = 250;

/**
 * Data from the API that stays current: loaded on mount and whenever `key` changes, reloaded when a
 * matching event arrives, on an interval, and when the daemon comes back after an outage. A failed
 * reload keeps the last data on screen.
 */
export function useResource<T>(key: string, load: () => Promise<T>, options: ResourceOptions = {}): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    loadRef.current().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(null);
      },
      (failure: Error) => {
        if (mine === generation.current) setError(failure.message);
      },
    );
  }, []);

  useEffect(() => {
    setData(null);
    setError(null);
    reload();
  }, [key, reload]);

  const { refreshOn, intervalMs } = options;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const soon = () => {
      timer ??= setTimeout(() => {
        timer = null;
        reload();
      }, COALESCE_MS);
    };
    const unsubscribeFeed = refreshOn ? liveFeed().subscribe((event) => refreshOn(event) && soon()) : () => undefined;
    let epoch = connection.get().epoch;
    const unsubscribeConnection = connection.subscribe((state) => {
      if (state.epoch !== epoch) {
        epoch = state.epoch;
        soon();
      }
    });
    const interval = intervalMs ? setInterval(reload, intervalMs) : null;
    return () => {
      unsubscribeFeed();
      unsubscribeConnection();
      if (interval !== null) clearInterval(interval);
      if (timer !== null) clearTimeout(timer);
    };
  }, [key, reload, refreshOn, intervalMs]);

  return { data, error, reload };
}

export function useConnection(): ConnectionState {
  const [state, setState] = useState(connection.get);
  useEffect(() => connection.subscribe(setState), []);
  return state;
}

/** The time, updated every `everyMs`: for ages and the running clock of a live run. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
