import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { DEMO_TASKS, SAMPLE_FILES } from '../../demo/sample-project.js';
import { openOrch } from '../../engine/context.js';
import { runCycle, type CycleProgress } from '../../engine/cycle.js';
import { addTask } from '../../engine/tasks.js';
import { dryRunTick } from '../../engine/tick-input.js';
import { say as sayLine, table } from '../output.js';
import { command } from '../run.js';

/** The demo agent tsc builds into dist/demo/, seen from the bundle's dist/bundle/ or from tsc's dist/cli/commands/. */
function demoAgentPath(): string {
  const candidates = ['../demo/demo-agent.js', '../../demo/demo-agent.js'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  return candidates.find((path) => existsSync(path)) ?? candidates.at(-1)!;
}

const DEMO_AGENT = demoAgentPath();

function makeSampleRepository(dir: string): void {
  for (const [path, content] of Object.entries(SAMPLE_FILES)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Orch Demo', '-c', 'user.email=demo@orch.invalid', ...args], { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'calc: add()');
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('see the whole pipeline in a minute: a sample project, a backlog, an offline agent, merged commits')
    .option('--json', 'print JSON progress lines')
    .action(
      command(async (io) => {
        const say = (line = '') => io.out.json || sayLine(line);
        const dir = mkdtempSync(join(tmpdir(), 'orch-demo-'));
        const repo = join(dir, 'calc');
        const home = join(dir, 'orch-home');
        mkdirSync(repo);
        mkdirSync(home);
        makeSampleRepository(repo);
        writeFileSync(
          join(home, 'config.yaml'),
          stringify({
            scheduler: { max_agents: 2, tick_interval_s: 1 },
            agents: { demo: { kind: 'command', command: process.execPath, args: [DEMO_AGENT] } },
            prices: { 'orch-demo': { input: 0, output: 0 } },
            // The demo agent is a script of Orch's own: its folder is the one more path the sandbox lets it read.
            projects: { calc: { path: repo, default_branch: 'main', agents: ['demo'], sandbox_paths: [dirname(DEMO_AGENT)], max_agents: 2, judge: { test: ['node', 'test/run.mjs'], timeout_s: 60 } } },
          }),
        );
        say(`Sample project: ${repo} (a tiny library with a real test suite)`);
        say(`Orch state:     ${home}  (your own ~/.orch is not touched)`);
        const orch = await openOrch(home);
        try {
          const ids: number[] = [];
          for (const task of DEMO_TASKS) {
            const added = await addTask(orch.store, { project: 'calc', title: task.title, body: task.body, labels: task.labels, dependsOn: task.dependsOn.map((i) => ids[i]!) }, orch.now());
            ids.push(added.id);
            say(`  added #${added.id} ${added.title}${added.blockedReason ? ` (${added.blockedReason})` : ''}`);
          }
          const dry = await dryRunTick(orch.store, orch.config, orch.now());
          say(`\nThe first tick starts ${dry.plan.starts.map((s) => `#${s.taskId}`).join(', ')}; ${dry.plan.waiting.length} wait for their dependencies.\n`);
          const events: CycleProgress[] = [];
          await runCycle(orch, {
            once: true,
            pollMs: 200,
            onProgress: (p) => {
              events.push(p);
              if (io.out.json) process.stdout.write(`${JSON.stringify(p)}\n`);
              else if (p.type === 'started') say(`▶ #${p.taskId} ${p.title} — agent ${p.agent}`);
              else if (p.type === 'finished') say(`${p.summary.task.state === 'done' ? '✓' : '✗'} #${p.summary.task.id} ${p.summary.task.state}: ${p.summary.note} (${(p.elapsedMs / 1000).toFixed(1)}s)`);
              else if (p.type === 'failed') say(`✗ #${p.taskId} ${p.message}`);
            },
          });
          const tasks = await orch.store.listTasks({ project: 'calc' });
          const log = execFileSync('git', ['log', '--oneline', 'main'], { cwd: repo, encoding: 'utf8' }).trim();
          const result = { repository: repo, home, tasks: tasks.map((t) => ({ id: t.id, title: t.title, state: t.state })), log: log.split('\n') };
          if (io.out.json) {
            process.stdout.write(`${JSON.stringify(result)}\n`);
          } else {
            say(`\n${table(tasks.map((t) => [`#${t.id}`, t.state, t.title]))}`);
            say(`\ngit log of the sample project (main):\n${log}`);
            say(`\nEach attempt left its prompt, agent log and verdict in ${join(home, 'runs')}.`);
            say(`Look around: ORCH_HOME=${home} orch log 1   ·   ORCH_HOME=${home} orch task get 3`);
          }
          if (tasks.some((t) => t.state !== 'done')) process.exitCode = 1;
        } finally {
          await orch.close();
        }
      }),
    );
}
