// Every project at a glance: what runs, what waits, what needs a person, what it cost today, how
// often its agents succeed and what waits for its checkout; pause, resume and deliver from here.

import { useState } from 'preact/hooks';
import { api, post } from '../api.js';
import { percent, usd } from '../format.js';
import { useResource } from '../hooks.js';
import { notify } from '../notices.js';
import { href } from '../router.js';
import type { HostView, OrchEvent, PortfolioProject, PortfolioReport, ProjectSummary } from '../types.js';

const affectsPortfolio = (event: OrchEvent) =>
  event.type.startsWith('task.') || event.type.startsWith('project.') || event.type.startsWith('run.') || event.type.startsWith('delivery.');

function PauseButton({ project, onDone }: { project: ProjectSummary; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    setBusy(true);
    try {
      await post(`/projects/${encodeURIComponent(project.name)}/${project.paused ? 'resume' : 'pause'}`, project.paused ? {} : { reason: 'paused from the dashboard' });
      notify(`${project.name} ${project.paused ? 'resumed' : 'paused'}`);
      onDone();
    } catch (error) {
      notify(`${project.name}: ${(error as Error).message}`, 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" class={project.paused ? 'button button-primary' : 'button'} data-action={project.paused ? 'resume' : 'pause'} disabled={busy} onClick={() => void toggle()}>
      {busy ? '…' : project.paused ? 'Resume' : 'Pause'}
    </button>
  );
}

/** Merged commits waiting for the checkout, why, and a button to try again now (after cleaning up). */
function DeliveryCallout({ project, onDone }: { project: PortfolioProject; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  if (!project.delivery) return null;
  const deliver = async () => {
    setBusy(true);
    try {
      await post(`/projects/${encodeURIComponent(project.name)}/deliver`);
      notify(`${project.name}: delivered`);
    } catch (error) {
      notify((error as Error).message, 'error');
    } finally {
      setBusy(false);
      onDone();
    }
  };
  return (
    <div class="callout held-delivery" data-delivery>
      <p class="small">{project.delivery.summary}</p>
      <button type="button" class="button" data-action="deliver" disabled={busy} onClick={() => void deliver()}>
        {busy ? '…' : 'Deliver now'}
      </button>
    </div>
  );
}

function ProjectCard({ project, windowDays, onChange }: { project: PortfolioProject; windowDays: number; onChange: () => void }) {
  return (
    <article class={`card project${project.paused ? ' is-paused' : ''}`} data-project={project.name}>
      <header class="project-head">
        <h3>
          <a href={href('/board', { project: project.name })}>{project.name}</a>
        </h3>
        {project.paused ? (
          <span class="badge badge-paused" title={project.pausedReason ?? undefined} data-paused>
            paused
          </span>
        ) : (
          <span class="badge badge-active">active</span>
        )}
      </header>
      {project.paused && project.pausedReason ? <p class="muted small">{project.pausedReason}</p> : null}
      <dl class="figures">
        <div>
          <dt>Running</dt>
          <dd data-figure="running">{project.running}</dd>
        </div>
        <div>
          <dt>Queued</dt>
          <dd data-figure="queued">{project.queued}</dd>
        </div>
        <div>
          <dt>Needs review</dt>
          <dd data-figure="needs-review">{project.needsReview > 0 ? <a href={href('/inbox', { project: project.name })}>{project.needsReview}</a> : 0}</dd>
        </div>
        <div>
          <dt>Spent today</dt>
          <dd data-figure="spend">{usd(project.spentTodayUsd)}</dd>
        </div>
        <div>
          <dt title={`runs that succeeded over the last ${windowDays} days`}>Success ({windowDays}d)</dt>
          <dd data-figure="success">
            {percent(project.success.rate)}
            {project.success.ended > 0 ? <span class="muted small"> of {project.success.ended}</span> : null}
          </dd>
        </div>
        <div>
          <dt>Done</dt>
          <dd>
            {project.done}
            <span class="muted small"> / {project.total}</span>
          </dd>
        </div>
      </dl>
      <DeliveryCallout project={project} onDone={onChange} />
      <footer class="project-foot">
        <PauseButton project={project} onDone={onChange} />
        <a class="button button-quiet" href={href('/board', { project: project.name })}>
          Board →
        </a>
      </footer>
    </article>
  );
}

const affectsHosts = (event: OrchEvent) => event.type.startsWith('host.') || event.type.startsWith('claim.');

/** The daemons sharing the store: which are alive, what each runs, and which stopped answering. */
function HostsPanel() {
  const hosts = useResource('hosts', () => api<HostView[]>('/hosts'), { refreshOn: affectsHosts, intervalMs: 30_000 });
  if (!hosts.data || hosts.data.length === 0) return null;
  return (
    <section class="hosts-panel" data-panel="hosts">
      <h3>Hosts</h3>
      <table class="table">
        <thead>
          <tr>
            <th>Host</th>
            <th>State</th>
            <th>Version</th>
            <th>Slots</th>
            <th>Running</th>
          </tr>
        </thead>
        <tbody>
          {hosts.data.map((host) => (
            <tr key={host.name} data-host={host.name} data-state={host.state}>
              <td title={`${host.machine}:${host.pid}`}>{host.name}</td>
              <td>
                <span class={`badge badge-host-${host.state}`}>{host.state}</span>
              </td>
              <td>{host.version}</td>
              <td>
                {host.running.length} / {host.slots}
              </td>
              <td>
                {host.running.map((id) => (
                  <a key={id} href={href(`/tasks/${id}`)}>
                    #{id}{' '}
                  </a>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function PortfolioView() {
  const portfolio = useResource('portfolio', () => api<PortfolioReport>('/portfolio'), { refreshOn: affectsPortfolio, intervalMs: 30_000 });
  const report = portfolio.data;
  return (
    <section class="view" data-view="portfolio">
      <header class="view-head">
        <h2>Portfolio</h2>
        {report ? (
          <p class="muted">
            {report.projects.length} projects · {usd(report.spentTodayUsd)} spent today
          </p>
        ) : null}
      </header>
      {portfolio.error && !report ? <p class="error">{portfolio.error}</p> : null}
      {!report && !portfolio.error ? <p class="muted">Loading…</p> : null}
      {report && report.projects.length === 0 ? <p class="empty">No projects yet: add one with <code>orch project add &lt;path&gt;</code>.</p> : null}
      <div class="project-grid">
        {report?.projects.map((project) => (
          <ProjectCard key={project.name} project={project} windowDays={report.successWindowDays} onChange={portfolio.reload} />
        ))}
      </div>
      <HostsPanel />
    </section>
  );
}
