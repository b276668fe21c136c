import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_SETTINGS } from '../../src/config/defaults.js';
import { ConfigError } from '../../src/config/errors.js';
import {
  configPath,
  loadConfig,
  loadGlobalConfig,
  loadProjectFile,
  orchHome,
  resolveProjectSettings,
} from '../../src/config/load.js';
import { tempDir, thrownBy, writeFile } from './helpers.js';

const GITHUB_DEFAULTS = { pollIntervalS: 30, assignee: null, authors: [], tokenEnv: 'GITHUB_TOKEN', apiUrl: 'https://api.github.com' };
const LINEAR_DEFAULTS = {
  states: ['Todo'],
  pollIntervalS: 30,
  stateMap: { running: 'In Progress', in_review: 'In Review', needs_review: 'In Review', done: 'Done', cancelled: 'Canceled' },
  tokenEnv: 'LINEAR_API_KEY',
  apiUrl: 'https://api.linear.app/graphql',
};

describe('orchHome', () => {
  it('is $ORCH_HOME when set, ~/.orch otherwise', () => {
    expect(orchHome({ ORCH_HOME: '/srv/orch' })).toBe('/srv/orch');
    expect(orchHome({ ORCH_HOME: '~/work/orch' })).toBe(join(homedir(), 'work/orch'));
    expect(orchHome({})).toBe(join(homedir(), '.orch'));
    expect(orchHome({ ORCH_HOME: '  ' })).toBe(join(homedir(), '.orch'));
  });
});

describe('loadConfig with no files', () => {
  it('is the built-in defaults', () => {
    const home = tempDir();
    const config = loadConfig(home);
    expect(config.home).toBe(home);
    expect(config.configPath).toBe(configPath(home));
    expect(config.scheduler).toEqual({ maxAgents: 4, tickIntervalS: 10, leaseS: 120, maxRouters: 2, hostName: null });
    expect(config.server).toEqual({ host: '127.0.0.1', port: 7878 });
    expect(Object.keys(config.agents).sort()).toEqual(['claude', 'codex', 'gemini', 'opencode']);
    expect(config.agents.claude).toEqual({
      name: 'claude',
      kind: 'claude',
      command: 'claude',
      model: null,
      maxConcurrent: 4,
      nice: 10,
      env: [],
      args: [],
    });
    expect(config.prices).toEqual({});
    expect(config.webhooks).toEqual({ github: null, linear: null });
    expect(config.projects).toEqual({});
    expect(config.defaults).toEqual(DEFAULT_PROJECT_SETTINGS);
    expect(config.defaults).toMatchObject({
      priority: 0,
      maxAgents: 2,
      agents: ['claude'],
      tracker: { kind: 'local', pollIntervalS: 30 },
      mergeStrategy: 'direct',
      maxAttempts: 3,
      backoff: { baseS: 30, capS: 3600, jitter: 0.2 },
      budget: { dailyUsd: null, taskUsd: null, runUsd: null },
      ports: { base: 41000, stride: 10, count: 10 },
      judge: { test: null, lint: null, timeoutS: 900 },
      mode: 'push',
    });
  });

  it('treats an empty or comments-only config.yaml as no settings', () => {
    const home = tempDir();
    writeFile(configPath(home), '# nothing here yet\n');
    expect(loadConfig(home).defaults).toEqual(DEFAULT_PROJECT_SETTINGS);
  });

  it('is fine with a project whose repository has no orch.yaml', () => {
    const home = tempDir();
    const repo = tempDir();
    writeFile(configPath(home), `projects:\n  web:\n    path: ${repo}\n`);
    expect(loadProjectFile(repo)).toBeUndefined();
    const web = loadConfig(home).projects.web;
    expect(web).toMatchObject({ name: 'web', path: repo, remote: null, defaultBranch: null, projectFile: null });
    expect(web?.maxAgents).toBe(2);
  });
});

describe('merging', () => {
  const globalYaml = (repo: string) => `
scheduler:
  max_agents: 8
agents:
  codex:
    model: gpt-5-codex
  reviewer:
    kind: command
    command: ./review.sh
defaults:
  max_agents: 3
  priority: 1
  agents: [claude, codex]
  backoff: { base_s: 10 }
  budget: { daily_usd: 50, task_usd: 5 }
  judge:
    test: [npm, test]
    lint: [npx, eslint, .]
  tracker: { kind: github, repo: org/base, labels: [orch] }
projects:
  web:
    path: ${repo}
    default_branch: main
    max_agents: 5
    backoff: { cap_s: 600 }
    copy_files: [.env, .env.local]
  api:
    remote: git@example.com:org/api.git
`;

  it('applies built-in < defaults < project entry < orch.yaml, merging mappings and replacing lists', () => {
    const home = tempDir();
    const repo = tempDir();
    writeFile(configPath(home), globalYaml(repo));
    writeFile(
      join(repo, 'orch.yaml'),
      [
        'priority: 9',
        'agents: [reviewer]',
        'backoff: { jitter: 0 }',
        'budget: { task_usd: null }',
        'judge: { lint: null, test: { shell: "npm test && npm run e2e" } }',
        'copy_files: [.env]',
        'tracker: { kind: github, repo: org/web }',
        '',
      ].join('\n'),
    );

    const config = loadConfig(home);
    expect(config.scheduler.maxAgents).toBe(8);
    expect(config.agents.codex).toMatchObject({ kind: 'codex', command: 'codex', model: 'gpt-5-codex' });
    expect(config.agents.reviewer).toMatchObject({ kind: 'command', command: './review.sh' });

    const web = config.projects.web;
    expect(web?.projectFile).toBe(join(repo, 'orch.yaml'));
    expect(web?.defaultBranch).toBe('main');
    expect(web?.maxAgents).toBe(5); // project entry over defaults
    expect(web?.priority).toBe(9); // orch.yaml over defaults
    expect(web?.agents).toEqual(['reviewer']); // lists replace
    expect(web?.backoff).toEqual({ baseS: 10, capS: 600, jitter: 0 }); // one key from each layer
    expect(web?.budget).toEqual({ dailyUsd: 50, taskUsd: null, runUsd: null }); // null switches off
    expect(web?.judge).toEqual({
      test: { shell: 'npm test && npm run e2e' },
      lint: null,
      timeoutS: 900,
      scope: { maxFiles: null, allowedPaths: null, forbiddenPaths: [] },
      review: { agent: null, rounds: 2 },
    });
    expect(web?.copyFiles).toEqual(['.env']);
    expect(web?.tracker).toEqual({ ...GITHUB_DEFAULTS, kind: 'github', repo: 'org/web', labels: ['orch'] }); // same kind merges

    const api = config.projects.api;
    expect(api).toMatchObject({ path: null, remote: 'git@example.com:org/api.git', projectFile: null });
    expect(api?.maxAgents).toBe(3);
    expect(api?.tracker).toEqual({ ...GITHUB_DEFAULTS, kind: 'github', repo: 'org/base', labels: ['orch'] });
  });

  it('replaces a tracker of another kind instead of mixing fields', () => {
    const home = tempDir();
    const repo = tempDir();
    writeFile(configPath(home), globalYaml(repo));
    const global = loadGlobalConfig(home);
    const settings = resolveProjectSettings(global, 'web', {
      path: join(repo, 'orch.yaml'),
      data: { tracker: { kind: 'linear', team: 'ENG' } },
    });
    expect(settings.tracker).toEqual({ ...LINEAR_DEFAULTS, kind: 'linear', team: 'ENG', labels: [] });
  });

  it('fills in the Linear tracker defaults, and a state_map entry replaces or (null) removes a default', () => {
    const home = tempDir();
    const repo = tempDir();
    writeFile(configPath(home), globalYaml(repo));
    const global = loadGlobalConfig(home);
    const settings = resolveProjectSettings(global, 'web', {
      path: join(repo, 'orch.yaml'),
      data: {
        tracker: {
          kind: 'linear',
          team: 'ENG',
          labels: ['orch'],
          states: ['Ready', 'Todo'],
          state_map: { running: 'Doing', needs_review: null, blocked: 'Blocked' },
          token_env: 'ENG_LINEAR_KEY',
          api_url: 'http://127.0.0.1:9999/graphql',
          poll_interval_s: 45,
        },
      },
    });
    expect(settings.tracker).toEqual({
      kind: 'linear',
      pollIntervalS: 45,
      team: 'ENG',
      labels: ['orch'],
      states: ['Ready', 'Todo'],
      stateMap: { running: 'Doing', in_review: 'In Review', done: 'Done', cancelled: 'Canceled', blocked: 'Blocked' },
      tokenEnv: 'ENG_LINEAR_KEY',
      apiUrl: 'http://127.0.0.1:9999/graphql',
    });
  });

  it('fills in the GitHub tracker defaults and reads its optional keys', () => {
    const home = tempDir();
    const repo = tempDir();
    writeFile(configPath(home), globalYaml(repo));
    const global = loadGlobalConfig(home);
    const settings = resolveProjectSettings(global, 'web', {
      path: join(repo, 'orch.yaml'),
      data: {
        tracker: {
          kind: 'github',
          repo: 'org/web',
          assignee: 'orch-bot',
          authors: ['alice'],
          token_env: 'WEB_GITHUB_TOKEN',
          api_url: 'https://ghe.example.com/api/v3/',
        },
      },
    });
    expect(settings.tracker).toEqual({
      kind: 'github',
      pollIntervalS: 30,
      repo: 'org/web',
      labels: ['orch'],
      assignee: 'orch-bot',
      authors: ['alice'],
      tokenEnv: 'WEB_GITHUB_TOKEN',
      apiUrl: 'https://ghe.example.com/api/v3',
    });
  });

  it('reads how often each kind of tracker is polled, 30 s unless it says', () => {
    const home = tempDir();
    const repo = tempDir();
    writeFile(configPath(home), globalYaml(repo));
    const global = loadGlobalConfig(home);
    const polled = (tracker: Record<string, unknown>) => resolveProjectSettings(global, 'web', { path: join(repo, 'orch.yaml'), data: { tracker } as never }).tracker.pollIntervalS;
    expect(polled({ kind: 'markdown', dir: 'queue' })).toBe(30);
    expect(polled({ kind: 'markdown', dir: 'queue', poll_interval_s: 5 })).toBe(5);
    expect(polled({ kind: 'local', poll_interval_s: 120 })).toBe(120);
    expect(polled({ kind: 'github', repo: 'org/web', poll_interval_s: 0.5 })).toBe(0.5);
    expect(polled({ kind: 'linear', team: 'ENG', poll_interval_s: 600 })).toBe(600);
  });

  it('returns copies that callers may change freely', () => {
    const home = tempDir();
    const first = loadConfig(home).defaults;
    first.agents.push('codex');
    first.backoff.baseS = 1;
    expect(loadConfig(home).defaults).toEqual(DEFAULT_PROJECT_SETTINGS);
  });

  it('expands ~ in project paths', () => {
    const home = tempDir();
    writeFile(configPath(home), 'projects:\n  web:\n    path: ~/code/web\n');
    expect(loadGlobalConfig(home).data.projects?.web?.path).toBe('~/code/web');
    // The repository does not exist, so there is no orch.yaml to read; the path is still resolved.
    expect(loadConfig(home).projects.web?.path).toBe(join(homedir(), 'code/web'));
  });
});

describe('errors are one line naming the file, the key path and the expectation', () => {
  function loadError(configYaml: string, orchYaml?: string): ConfigError {
    const home = tempDir();
    const repo = tempDir();
    writeFile(configPath(home), configYaml.replaceAll('$REPO', repo));
    if (orchYaml !== undefined) writeFile(join(repo, 'orch.yaml'), orchYaml);
    const error = thrownBy(() => loadConfig(home));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).not.toContain('\n');
    return error as ConfigError;
  }

  it('rejects an unknown key by its full path, suggesting the likely one', () => {
    const error = loadError('projects:\n  web:\n    path: $REPO\n    max_agent: 2\n');
    expect(error.file).toMatch(/config\.yaml$/);
    expect(error.message).toBe(`${error.file}: projects.web.max_agent: unknown key (did you mean "max_agents"?)`);
  });

  it('rejects a malformed approval rule, saying what a rule looks like', () => {
    const error = loadError('projects:\n  web:\n    path: $REPO\n    approvals:\n      deny: ["rm -rf"]\n');
    expect(error.message).toBe(`${error.file}: projects.web.approvals.deny[0]: expected a rule such as Bash, Bash(npm test*) or Edit(src/**), got "rm -rf"`);
  });

  it('reads approvals with their defaults and per-role rules', () => {
    const home = tempDir();
    const repo = tempDir();
    writeFile(configPath(home), `projects:\n  web:\n    path: ${repo}\n    approvals:\n      enabled: true\n      allow: [Bash(npm test*)]\n      roles:\n        review:\n          deny: [Bash]\n`);
    expect(loadConfig(home).projects.web!.approvals).toEqual({ enabled: true, timeoutS: 600, onTimeout: 'deny', allow: ['Bash(npm test*)'], deny: [], roles: { review: { allow: [], deny: ['Bash'] } }, approver: null });
  });

  it('rejects an unknown top-level key', () => {
    const error = loadError('schedular:\n  max_agents: 2\n');
    expect(error.message).toBe(`${error.file}: schedular: unknown key (did you mean "scheduler"?)`);
  });

  it('rejects an unknown key in orch.yaml, naming orch.yaml', () => {
    const error = loadError('projects:\n  web:\n    path: $REPO\n', 'judge:\n  tests: [npm, test]\n');
    expect(error.file).toMatch(/orch\.yaml$/);
    expect(error.message).toBe(`${error.file}: judge.tests: unknown key (did you mean "test"?)`);
  });

  it('reports a wrong type with what was expected and what was found', () => {
    const error = loadError('projects:\n  web:\n    path: $REPO\n    max_agents: two\n');
    expect(error.message).toBe(`${error.file}: projects.web.max_agents: expected an integer >= 1, got "two"`);
  });

  it("takes an agent's priority below Orch's as 0 to 19, and says so of anything else", () => {
    const home = tempDir();
    writeFile(configPath(home), 'agents:\n  claude:\n    nice: 0\n  codex:\n    nice: 19\n');
    expect([loadConfig(home).agents.claude!.nice, loadConfig(home).agents.codex!.nice, loadConfig(home).agents.gemini!.nice]).toEqual([0, 19, 10]);
    const error = loadError('agents:\n  claude:\n    nice: 20\n');
    expect(error.message).toBe(`${error.file}: agents.claude.nice: expected an integer from 0 to 19, got 20`);
  });

  it('takes a webhook secret only as the name of an environment variable', () => {
    const home = tempDir();
    writeFile(configPath(home), 'webhooks:\n  github: { secret_env: GH_HOOK_SECRET }\n');
    expect(loadConfig(home).webhooks).toEqual({ github: { secretEnv: 'GH_HOOK_SECRET' }, linear: null });
    expect(loadError('webhooks:\n  linear: { secret_env: "not a name" }\n').message).toMatch(
      /: webhooks\.linear\.secret_env: expected an environment variable name, got "not a name"$/,
    );
    expect(loadError('webhooks:\n  github: { secret: hunter2 }\n').message).toMatch(/; webhooks\.github\.secret: unknown key \(allowed: secret_env\)$/);
  });

  it('reports an out-of-range value', () => {
    const error = loadError('defaults:\n  backoff: { jitter: 1.5 }\n');
    expect(error.message).toBe(`${error.file}: defaults.backoff.jitter: expected a number between 0 and 1, got 1.5`);
  });

  it('reports a bad command form', () => {
    const error = loadError('projects:\n  web:\n    path: $REPO\n', 'hooks:\n  after_create: npm ci\n');
    expect(error.message).toBe(
      `${error.file}: hooks.after_create: expected a command: a list of strings (argv) or {shell: "..."}, got "npm ci"`,
    );
  });

  it('reports an unknown tracker kind and a missing tracker field', () => {
    expect(loadError('defaults:\n  tracker: { kind: jira }\n').message).toMatch(
      /: defaults\.tracker\.kind: expected one of "local", "markdown", "github", "linear", got "jira"$/,
    );
    expect(loadError('defaults:\n  tracker: { kind: github }\n').message).toMatch(
      /: defaults\.tracker\.repo: missing \(expected owner\/name\)$/,
    );
    expect(loadError('defaults:\n  tracker: { kind: github, repo: a/b, token_env: "GITHUB TOKEN" }\n').message).toMatch(
      /: defaults\.tracker\.token_env: expected an environment variable name, got "GITHUB TOKEN"$/,
    );
    expect(loadError('defaults:\n  tracker: { kind: github, repo: a/b, api_url: "ftp://x" }\n').message).toMatch(
      /: defaults\.tracker\.api_url: expected an http\(s\) URL, got "ftp:\/\/x"$/,
    );
    expect(loadError('defaults:\n  tracker: { kind: linear, team: ENG, states: [] }\n').message).toMatch(
      /: defaults\.tracker\.states: expected a non-empty list of workflow state names/,
    );
    expect(loadError('defaults:\n  tracker: { kind: linear, team: ENG, state_map: { runing: Doing } }\n').message).toMatch(
      /: defaults\.tracker\.state_map\.runing: unknown key \(did you mean "running"\?\)$/,
    );
    expect(loadError('defaults:\n  tracker: { kind: markdown, dir: q, poll_interval_s: 0 }\n').message).toMatch(
      /: defaults\.tracker\.poll_interval_s: expected a number > 0, got 0$/,
    );
  });

  it('needs a path or a remote for every project', () => {
    const error = loadError('projects:\n  web:\n    max_agents: 2\n');
    expect(error.message).toBe(`${error.file}: projects.web: needs a path (a local repository) or a remote (a git URL)`);
  });

  it('joins several issues on one line', () => {
    const error = loadError('defaults:\n  priority: 1.5\n  max_agents: 0\n');
    expect(error.message).toBe(
      `${error.file}: defaults.priority: expected an integer, got 1.5; defaults.max_agents: expected an integer >= 1, got 0`,
    );
  });

  it('rejects an agent name that no agent definition has', () => {
    const error = loadError('projects:\n  web:\n    path: $REPO\n', 'agents: [claude, cladue]\n');
    expect(error.message).toBe(`${error.file}: agents[1]: unknown agent "cladue" (defined: claude, codex, opencode, gemini)`);
  });

  it('needs a kind for a new agent, and a command for a command agent', () => {
    expect(loadError('agents:\n  mine: { command: ./x }\n').message).toMatch(
      /: agents\.mine\.kind: missing \(expected one of claude, codex, opencode, gemini, command\)$/,
    );
    expect(loadError('agents:\n  mine: { kind: command }\n').message).toMatch(/: agents\.mine\.command: missing/);
  });

  it('reports a YAML syntax error by line and column, first line only', () => {
    const error = loadError('scheduler:\n  max_agents: 4\n   tick_interval_s: 5\n');
    expect(error.message).toMatch(/config\.yaml: line 2, column \d+: [a-z].*$/);
  });

  it('reports YAML syntax errors in orch.yaml too', () => {
    const error = loadError('projects:\n  web:\n    path: $REPO\n', 'priority: 1\npriority: 2\n');
    expect(error.message).toBe(`${error.file}: line 2, column 1: map keys must be unique`);
  });

  it('rejects a file that is not a mapping', () => {
    const error = loadError('- just\n- a list\n');
    expect(error.message).toBe(`${error.file}: expected a mapping, got a list`);
  });
});

describe('the review agent', () => {
  it('must name a configured agent', () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-review-'));
    try {
      writeFileSync(join(home, 'config.yaml'), 'defaults:\n  judge:\n    review: { agent: ghost }\n');
      expect(() => loadConfig(home)).toThrow(/defaults\.judge\.review\.agent: unknown agent "ghost"/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
