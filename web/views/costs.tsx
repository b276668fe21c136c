// Costs and health: spend per day and per agent, success per agent and model, how long runs take, and
// the scheduler's tick and queue right now.

import { api } from '../api.js';
import { BarList, ColumnChart, type Column } from '../components/charts.js';
import { ago, duration, percent, shortDuration, usd } from '../format.js';
import { useNow, useResource } from '../hooks.js';
import { href, replaceQuery, type Route } from '../router.js';
import type { HistogramBucket, OrchEvent, StatsReport } from '../types.js';

const DAY_CHOICES = [7, 14, 30, 90];
const affectsStats = (event: OrchEvent) => event.type === 'run.ended' || event.type === 'run.failed' || event.type === 'run.started' || event.type.startsWith('task.') || event.type.startsWith('project.');

function bucketLabel(buckets: HistogramBucket[], index: number): string {
  const bucket = buckets[index]!;
  if (bucket.upToMs === null) return `> ${shortDuration(buckets[index - 1]?.upToMs ?? 0)}`;
  return `≤ ${shortDuration(bucket.upToMs)}`;
}

function Figure({ label, value, note, name }: { label: string; value: string; note?: string; name: string }) {
  return (
    <div class="card figure" data-figure={name}>
      <p class="figure-label">{label}</p>
      <p class="figure-value">{value}</p>
      {note ? <p class="muted small">{note}</p> : null}
    </div>
  );
}

export function CostsView({ route }: { route: Route }) {
  const now = useNow(5000);
  const days = Number(route.query.get('days')) || 14;
  const stats = useResource(`stats:${days}`, () => api<StatsReport>(`/stats?days=${days}`), { refreshOn: affectsStats, intervalMs: 15_000 });
  const report = stats.data;
  if (!report) {
    return (
      <section class="view" data-view="costs">
        <h2>Costs and health</h2>
        {stats.error ? <p class="error">{stats.error}</p> : <p class="muted">Loading…</p>}
      </section>
    );
  }

  const agentKeys = report.agents.map((agent) => agent.agent);
  const dayColumns: Column[] = report.spendByDay.map((day) => ({
    label: day.day.slice(5),
    segments: agentKeys.map((agent) => ({ key: agent, value: day.byAgent[agent] ?? 0 })),
  }));
  const histogram: Column[] = report.durationHistogram.map((bucket, index) => ({ label: bucketLabel(report.durationHistogram, index), segments: [{ key: 'runs', value: bucket.count }] }));
  const queued = report.queue.reduce((sum, q) => sum + q.queued, 0);
  const tick = report.tick;

  return (
    <section class="view" data-view="costs">
      <header class="view-head">
        <h2>Costs and health</h2>
        <label class="filter">
          Period
          <select value={String(days)} onChange={(event) => replaceQuery('/costs', { days: (event.currentTarget as HTMLSelectElement).value })}>
            {DAY_CHOICES.map((choice) => (
              <option key={choice} value={String(choice)}>
                last {choice} days
              </option>
            ))}
          </select>
        </label>
      </header>

      <div class="figure-grid">
        <Figure name="spend" label={`Spend, ${days} days`} value={usd(report.totalCostUsd)} note={`${report.agents.reduce((sum, a) => sum + a.runs, 0)} runs`} />
        <Figure name="running" label="Running now" value={String(report.runningRuns)} note={`${report.claims.held} claims${report.claims.expired > 0 ? `, ${report.claims.expired} expired` : ''}`} />
        <Figure name="queue" label="Queued" value={String(queued)} note={`${report.queue.filter((q) => q.paused).length} projects paused`} />
        <Figure
          name="tick"
          label="Last tick"
          value={tick.lastTickAt === null ? 'none yet' : ago(tick.lastTickAt, now)}
          note={`${tick.ticks} ticks${tick.lastTickMs === null ? '' : `, last took ${tick.lastTickMs} ms`}, every ${tick.intervalS}s`}
        />
      </div>

      <div class="chart-grid">
        <section class="card">
          <h3>Spend per day</h3>
          <ColumnChart title="Spend per day, by agent" columns={dayColumns} keys={agentKeys} format={usd} />
        </section>
        <section class="card">
          <h3>Spend per agent</h3>
          <BarList title="Spend per agent" rows={report.agents.map((agent) => ({ label: agent.agent, value: agent.costUsd, note: `${usd(agent.costUsd)} · ${agent.runs} runs` }))} keys={agentKeys} format={usd} />
        </section>
        <section class="card">
          <h3>Success rate per agent and model</h3>
          <BarList
            title="Success rate per agent and model"
            max={1}
            keys={agentKeys}
            format={percent}
            rows={report.models.map((model) => ({
              label: `${model.agent}${model.model ? ` · ${model.model}` : ''}`,
              series: model.agent,
              value: model.success.rate ?? 0,
              note: `${percent(model.success.rate)} of ${model.success.ended}`,
            }))}
          />
        </section>
        <section class="card">
          <h3>Run durations</h3>
          <ColumnChart title="Ended runs by duration" columns={histogram} keys={['runs']} format={(n) => (Number.isInteger(n) ? String(n) : n.toFixed(1))} />
          <div class="table-scroll">
            <table class="table">
              <thead>
                <tr>
                  <th>Agent</th>
                  <th class="num">Runs</th>
                  <th class="num">Median</th>
                  <th class="num">p90</th>
                  <th class="num">Longest</th>
                  <th class="num">Success</th>
                </tr>
              </thead>
              <tbody>
                {report.agents.map((agent) => (
                  <tr key={agent.agent}>
                    <td>{agent.agent}</td>
                    <td class="num">{agent.durations.count}</td>
                    <td class="num">{agent.durations.medianMs === null ? '—' : duration(agent.durations.medianMs)}</td>
                    <td class="num">{agent.durations.p90Ms === null ? '—' : duration(agent.durations.p90Ms)}</td>
                    <td class="num">{agent.durations.maxMs === null ? '—' : duration(agent.durations.maxMs)}</td>
                    <td class="num">{percent(agent.success.rate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
        <section class="card">
          <h3>Queue per project</h3>
          <div class="table-scroll">
            <table class="table" data-queue>
              <thead>
                <tr>
                  <th>Project</th>
                  <th class="num">Queued</th>
                  <th class="num">Running</th>
                  <th>State</th>
                </tr>
              </thead>
              <tbody>
                {report.queue.map((q) => (
                  <tr key={q.project}>
                    <td>
                      <a href={href('/board', { project: q.project })}>{q.project}</a>
                    </td>
                    <td class="num">{q.queued}</td>
                    <td class="num">{q.running}</td>
                    <td>{q.paused ? <span class="badge badge-paused">paused</span> : 'active'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>
    </section>
  );
}
