// The page: navigation, the connection banner, and the view the URL names.

import { api, post } from './api.js';
import { clockTime } from './format.js';
import { useConnection, useResource } from './hooks.js';
import { Notices } from './notices.js';
import { href, useRoute, type Route } from './router.js';
import type { OrchEvent, Task } from './types.js';
import { BoardView } from './views/board.js';
import { CostsView } from './views/costs.js';
import { InboxView, waitsForPerson } from './views/inbox.js';
import { PortfolioView } from './views/portfolio.js';
import { TaskDetailView } from './views/task-detail.js';

const NAV = [
  { path: '/', label: 'Portfolio' },
  { path: '/board', label: 'Board' },
  { path: '/inbox', label: 'Needs review' },
  { path: '/costs', label: 'Costs & health' },
];

const affectsInbox = (event: OrchEvent) => event.type.startsWith('task.');

function Banner() {
  const state = useConnection();
  if (state.signedOut) {
    return (
      <div class="banner banner-signed-out" role="alert" data-banner="signed-out">
        <strong>Signed out.</strong> This browser's dashboard session has ended. Run <code>orch dashboard</code> where the daemon runs and open the link it prints.
      </div>
    );
  }
  if (state.reachable) return null;
  return (
    <div class="banner banner-unreachable" role="alert" data-banner="unreachable">
      <strong>Orch is unreachable.</strong> The daemon at {window.location.host} has not answered since {clockTime(state.downSince ?? Date.now())}. Is{' '}
      <code>orch serve</code> running? Retrying every few seconds; what you see may be out of date.
    </div>
  );
}

function Nav({ route }: { route: Route }) {
  const inbox = useResource('inbox-count', () => api<Task[]>('/tasks?state=needs_review,blocked'), { refreshOn: affectsInbox, intervalMs: 60_000 });
  const waiting = (inbox.data ?? []).filter(waitsForPerson).length;
  const active = (path: string) => (path === '/' ? route.path === '/' : route.path.startsWith(path) || (path === '/board' && route.path.startsWith('/tasks/')));
  const signOut = () => {
    post('/logout').then(
      () => window.location.assign('/'),
      () => window.location.assign('/'),
    );
  };
  return (
    <nav class="nav">
      <a class="brand" href={href('/')}>
        <span class="brand-mark" aria-hidden="true">◆</span> Orch
      </a>
      <ul class="nav-links">
        {NAV.map((item) => (
          <li key={item.path}>
            <a href={href(item.path)} class={active(item.path) ? 'active' : undefined} aria-current={active(item.path) ? 'page' : undefined} data-nav={item.path}>
              {item.label}
              {item.path === '/inbox' && waiting > 0 ? <span class="count count-alert">{waiting}</span> : null}
            </a>
          </li>
        ))}
      </ul>
      <button type="button" class="button button-quiet nav-signout" onClick={signOut}>
        Sign out
      </button>
    </nav>
  );
}

function CurrentView({ route }: { route: Route }) {
  const task = /^\/tasks\/(\d+)$/.exec(route.path);
  if (task) return <TaskDetailView taskId={Number(task[1])} />;
  switch (route.path) {
    case '/':
      return <PortfolioView />;
    case '/board':
      return <BoardView route={route} />;
    case '/inbox':
      return <InboxView route={route} />;
    case '/costs':
      return <CostsView route={route} />;
    default:
      return (
        <section class="view">
          <p>
            Nothing here. <a href={href('/')}>Back to the portfolio</a>
          </p>
        </section>
      );
  }
}

export function App() {
  const route = useRoute();
  return (
    <>
      <Nav route={route} />
      <Banner />
      <main class="main">
        <CurrentView route={route} />
      </main>
      <Notices />
    </>
  );
}
