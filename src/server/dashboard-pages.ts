// The two HTML pages the dashboard has: the app shell (a session is required; everything else is drawn
// by the script) and the login page (served to anyone, and it needs no script). Neither holds inline
// script or style, so the Content-Security-Policy can forbid both.

import type { DashboardManifest } from './dashboard-assets.js';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

function head(title: string, manifest: DashboardManifest | null): string {
  return [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtml(title)}</title>`,
    ...(manifest
      ? [`<link rel="icon" type="image/svg+xml" href="/assets/${manifest.icon}">`, `<link rel="stylesheet" href="/assets/${manifest.style}">`]
      : []),
  ].join('\n');
}

export function appPage(manifest: DashboardManifest): string {
  return `<!doctype html>
<html lang="en">
<head>
${head('Orch', manifest)}
<script type="module" src="/assets/${manifest.script}"></script>
</head>
<body>
<div id="app"><p class="loading">Loading the dashboard…</p></div>
<noscript><p class="loading">The dashboard needs JavaScript.</p></noscript>
</body>
</html>
`;
}

export interface LoginPageOptions {
  /** Why the visitor is here again, e.g. a link that was used already. */
  problem?: string;
}

export function loginPage(manifest: DashboardManifest | null, options: LoginPageOptions = {}): string {
  const problem = options.problem ? `<p class="login-problem" role="alert">${escapeHtml(options.problem)}</p>\n` : '';
  return `<!doctype html>
<html lang="en">
<head>
${head('Orch — sign in', manifest)}
</head>
<body class="login-body">
<main class="login" data-view="login">
<h1><span class="brand-mark" aria-hidden="true">◆</span> Orch dashboard</h1>
${problem}<p>This dashboard opens with a one-time login link. There are two ways to get one:</p>
<ul>
<li>the link <code>orch serve</code> printed when it started (<code>…/login?code=…</code>), if it is still fresh (it works once, within five minutes);</li>
<li>a new link: run <code>orch dashboard</code> on the machine where the daemon runs.</li>
</ul>
<p>Open the link in this browser. It signs this browser in for a week; the API token itself never appears in a URL.</p>
</main>
</body>
</html>
`;
}

/** What `/` says when the package was installed without its built dashboard. */
export function notBuiltPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
${head('Orch', null)}
</head>
<body>
<p>The dashboard was not built: run <code>npm run build</code> in Orch's checkout, then restart <code>orch serve</code>.</p>
</body>
</html>
`;
}
