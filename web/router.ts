// Views live in the URL's fragment (`#/board?project=api`): the server serves one page at `/`, and the
// API's own paths (`/tasks/3`) stay the API's.

import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** `/`, `/board`, `/tasks/3`, … */
  path: string;
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = window.location.hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = hash.split('?', 2);
  return { path: path || '/', query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const onChange = () => setRoute(currentRoute());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** `#/path?query` with empty parameters left out. */
export function href(path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const search = params.toString();
  return `#${path}${search ? `?${search}` : ''}`;
}

/** Changes the query of the current view without a new history entry (filters). */
export function replaceQuery(path: string, query: Record<string, string | undefined>): void {
  window.history.replaceState(null, '', href(path, query));
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}
