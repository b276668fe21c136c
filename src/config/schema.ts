// What Orch's config files may contain (zod, snake_case as written in YAML) and the resolved,
// camelCase shape the rest of the code reads. File schemas make every key optional — built-in
// defaults fill the gaps during resolution — and are strict, so a misspelt key is an error rather
// than a silently ignored setting.

import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { isValidBranchName } from '../core/branch-name.js';
import { HOST_NAME_PATTERN } from '../core/hosts.js';
import {
  COMPLEXITIES,
  MERGE_STRATEGIES,
  PROJECT_MODES,
  TASK_STATES,
  type Complexity,
  type ProjectMode,
  type TaskState,
} from '../core/types.js';
import { commandSchema, nameSchema } from '../core/value-schemas.js';
import { NETWORK_MODES, SANDBOX_SWITCHES } from '../core/sandbox-policy.js';
import { expecting } from '../core/schema-messages.js';
import { parseToolRule, TIMEOUT_DEFAULTS } from '../core/approvals.js';
import { ROLES } from '../core/types.js';
import { AGENT_KINDS, type AgentKind } from './defaults.js';
import { notificationsSchema } from './notification-schema.js';

export { commandSchema, nameSchema };

export { AGENT_KINDS, type AgentKind };

export { PROJECT_MODES, type ProjectMode };

// ---------------------------------------------------------------- building blocks

const integerAtLeast = (minimum: number) => expecting(z.int().min(minimum), `an integer >= ${minimum}`);
const integerBetween = (minimum: number, maximum: number, what: string) =>
  expecting(z.int().min(minimum).max(maximum), `${what} between ${minimum} and ${maximum}`);
const positiveNumber = () => expecting(z.number().positive(), 'a number > 0');
const nonNegativeNumber = () => expecting(z.number().min(0), 'a number >= 0');
const nonEmptyString = () => expecting(z.string().min(1), 'a non-empty string');
/** A branch name git takes as one (never an option such as `--upload-pack=…`). */
const branchNameString = expecting(z.string().min(1).refine(isValidBranchName), 'a valid branch name, such as main');

/** A key users may leave out, with the text editors show for it (from the JSON Schema). */
const optional = <T extends z.ZodType>(schema: T, description: string) => schema.optional().describe(description);
/** Like `optional`, and `null` switches off a value inherited from an earlier layer. */
const switchable = <T extends z.ZodType>(schema: T, description: string) =>
  schema.nullable().optional().describe(description);

const absolutePath = expecting(
  z.string().refine((path) => isAbsolute(path) || path === '~' || path.startsWith('~/')),
  'an absolute path (or one starting with ~/)',
);

/** Paths inside a repository must stay inside it. */
const repoRelativePath = expecting(
  z.string().refine((path) => path.length > 0 && !isAbsolute(path) && !path.split(/[\\/]/).includes('..')),
  'a path relative to the repository root, without ".."',
);

/** A file in the repository (relative) or anywhere on this machine (absolute). */
const promptPath = expecting(
  z.string().refine((path) => path.length > 0 && (isAbsolute(path) || path === '~' || path.startsWith('~/') || !path.split(/[\\/]/).includes('..'))),
  'a path relative to the repository root (without "..") or an absolute path',
);

const envName = () => expecting(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), 'an environment variable name');

/** Linear's state_map: one optional workflow state name per task state. */
const linearStateName = (state: TaskState) =>
  switchable(nonEmptyString(), `Workflow state a ${state} task's issue moves to. null: leave the issue where it is.`);
const linearStateMapShape = Object.fromEntries(TASK_STATES.map((state) => [state, linearStateName(state)])) as Record<
  TaskState,
  ReturnType<typeof linearStateName>
>;

const labelsSchema = expecting(z.array(nonEmptyString()), 'a list of labels');
const labels = () => optional(labelsSchema, 'Only items carrying all these labels become tasks.');
const pollInterval = (what: string) =>
  optional(positiveNumber(), `How often Orch asks ${what} for changes, in seconds, when nothing (a webhook, a file move) tells it sooner. Default 30.`);

export const trackerSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('local').describe("Tasks live in Orch's database only."),
      poll_interval_s: pollInterval('GitHub about the pull requests of local tasks (a remote on GitHub)'),
    }),
    z.strictObject({
      kind: z.literal('markdown').describe('Tasks are Markdown files in the repository.'),
      dir: repoRelativePath.describe('Directory of task files, relative to the repository root.'),
      poll_interval_s: pollInterval('the queue (a file moved between its folders is seen at once as well)'),
    }),
    z.strictObject({
      kind: z.literal('github').describe('Tasks are GitHub issues.'),
      repo: expecting(z.string().regex(/^[\w.-]+\/[\w.-]+$/), 'owner/name').describe('GitHub repository, owner/name.'),
      labels: labels(),
      poll_interval_s: pollInterval('GitHub'),
      assignee: optional(
        expecting(z.string().regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?|\*|none)$/), 'a GitHub login, "*" or "none"'),
        'Only issues assigned to this login become tasks ("*": assigned to anyone, "none": unassigned). Default: any.',
      ),
      authors: optional(
        expecting(z.array(nonEmptyString()), 'a list of GitHub logins'),
        'Only issues and @orch mentions by these logins become tasks. Default: issues by anyone (the labels decide), mentions by owners, members and collaborators.',
      ),
      token_env: optional(envName(), 'Environment variable holding the GitHub token. Default GITHUB_TOKEN.'),
      api_url: optional(
        expecting(z.url({ protocol: /^https?$/ }), 'an http(s) URL'),
        'REST API address: https://HOST/api/v3 for GitHub Enterprise Server. Default https://api.github.com.',
      ),
    }),
    z.strictObject({
      kind: z.literal('linear').describe('Tasks are Linear issues.'),
      team: nonEmptyString().describe('Linear team key, e.g. ENG.'),
      labels: labels(),
      poll_interval_s: pollInterval('Linear'),
      states: optional(
        expecting(z.array(nonEmptyString()).min(1), 'a non-empty list of workflow state names'),
        'Workflow states (by name) whose issues are ready for Orch. Default [Todo].',
      ),
      state_map: optional(
        z.strictObject(linearStateMapShape),
        'Workflow state (by name) the issue moves to as its task changes state. Default {running: In Progress, needs_review: In Review, done: Done, cancelled: Canceled}.',
      ),
      token_env: optional(envName(), 'Environment variable holding the Linear API key. Default LINEAR_API_KEY.'),
      api_url: optional(
        expecting(z.url({ protocol: /^https?$/ }), 'an http(s) URL'),
        'GraphQL endpoint. Default https://api.linear.app/graphql.',
      ),
    }),
  ])
  .describe('Where tasks come from and where their status is reported. Default {kind: local}.');

// ---------------------------------------------------------------- project settings (files)

/** Globs over repository paths, e.g. `src/**` (core/scope.ts says what they match). */
const globList = expecting(z.array(nonEmptyString()), 'a list of globs');

const command = (description: string) =>
  switchable(commandSchema, `${description} An argv list, or {shell: "..."}. null: none.`);

const modelsByAgent = () =>
  optional(expecting(z.record(nameSchema, nonEmptyString()), 'a mapping of agent names to model names'), 'Model per agent name.');

/** How tasks find their agent and model: labels, an LLM router, a weighted round robin, a model map. */
export const routingSchema = z
  .strictObject({
    router: switchable(
      z.strictObject({
        agent: nameSchema.describe('The agent that routes (run read-only in a scratch directory).'),
        timeout_s: optional(positiveNumber(), 'Limit of each router run, in seconds. Default 120.'),
        attempts: optional(integerAtLeast(1), 'Router runs per task before the round robin decides. Default 2.'),
      }),
      'An LLM router that chooses the agent and complexity of each new task. null: none (round robin).',
    ),
    weights: optional(
      expecting(z.record(nameSchema, nonNegativeNumber()), 'a mapping of agent names to numbers >= 0'),
      "Round-robin weight per agent (default 1); 0: only when no weighted agent can work.",
    ),
    use_scoreboard: optional(z.boolean(), "Multiply each weight by the agent's success rate over the last 30 days. Default false."),
    model_map: optional(
      z.strictObject(Object.fromEntries(COMPLEXITIES.map((c) => [c, modelsByAgent()])) as Record<Complexity, ReturnType<typeof modelsByAgent>>),
      "Model per complexity and agent, e.g. {simple: {claude: haiku}}; absent: the agent's own model.",
    ),
  })
  .describe('How each task is routed to an agent and a model.');

/** A tool rule (core/approvals.ts): `Tool` or `Tool(pattern)`. */
const toolRule = expecting(z.string().refine((text) => parseToolRule(text).ok), 'a rule such as Bash, Bash(npm test*) or Edit(src/**)');
const approvalRuleLists = {
  allow: optional(z.array(toolRule), 'Requests these rules cover are allowed without asking anyone. Default [].'),
  deny: optional(z.array(toolRule), 'Requests these rules cover are denied without asking anyone; a deny beats an allow. Default [].'),
};

const projectSettingsShape = {
  priority: optional(z.int(), 'Higher-priority projects get free agent slots first. Default 0.'),
  max_agents: optional(integerAtLeast(1), 'Agents running at once on this project. Default 2.'),
  agents: optional(
    expecting(z.array(nameSchema).min(1), 'a non-empty list of agent names'),
    'Agents (by name) this project may use. Default [claude].',
  ),
  tracker: trackerSchema.optional(),
  merge_strategy: optional(
    z.enum(MERGE_STRATEGIES),
    'direct: fast-forward the default branch; pr: push a branch and open a pull request. Default direct.',
  ),
  max_attempts: optional(integerAtLeast(1), 'Runs per task before it needs review. Default 3.'),
  backoff: optional(
    z.strictObject({
      base_s: optional(positiveNumber(), 'Delay after the first failure, in seconds. Default 30.'),
      cap_s: optional(positiveNumber(), 'Longest delay, in seconds. Default 3600.'),
      jitter: optional(
        expecting(z.number().min(0).max(1), 'a number between 0 and 1'),
        'Random spread as a fraction of the delay. Default 0.2.',
      ),
    }),
    'Retry delay: min(base_s * 2^(attempt-1), cap_s), jittered.',
  ),
  budget: optional(
    z.strictObject({
      daily_usd: switchable(positiveNumber(), 'Spend per day on this project. null: no limit.'),
      task_usd: switchable(positiveNumber(), 'Spend per task over all its runs. null: no limit.'),
      run_usd: switchable(positiveNumber(), 'Spend per run; the run is stopped beyond it. null: no limit.'),
    }),
    'Spending limits in USD. Default: none.',
  ),
  backpressure: optional(
    z.strictObject({
      max_queued: switchable(integerAtLeast(0), 'Hold new runs while this many tasks wait to merge.'),
      max_open_prs: switchable(integerAtLeast(0), 'Hold new runs while this many pull requests are open.'),
      max_needs_review: switchable(integerAtLeast(0), 'Hold new runs while this many tasks need review.'),
    }),
    'Pause new runs while finished work piles up. Default: no limits.',
  ),
  pull_requests: optional(
    z.strictObject({
      auto_merge: switchable(z.enum(['squash', 'merge', 'rebase']), 'Merge an approved pull request whose checks pass, with this method. null: a person merges. Default null.'),
      rerun_failed_jobs: optional(z.boolean(), "Re-run a head's failed GitHub Actions jobs once before an agent is asked to fix them. Default true."),
      ci_rounds: optional(integerAtLeast(0), 'Fix rounds for failing checks before a person is asked. Default 3.'),
      review_rounds: optional(integerAtLeast(0), 'Rounds of changes asked by reviewers before a person is asked. Default 3.'),
      reviewers: optional(expecting(z.array(z.string().min(1)), 'a list of logins'), "Who may ask for changes; [] (default): the repository's owners, members and collaborators."),
      github: optional(
        z.strictObject({
          repo: optional(expecting(z.string().regex(/^[\w.-]+\/[\w.-]+$/), 'owner/name'), 'GitHub repository, owner/name. Default: the remote, when it is on github.com.'),
          api_url: optional(z.string().url(), 'REST API root (GitHub Enterprise Server). Default https://api.github.com.'),
          token_env: optional(z.string().min(1), 'The environment variable holding the token. Default GITHUB_TOKEN.'),
        }),
        'Where a project whose tracker is not GitHub opens its pull requests.',
      ),
    }),
    'What Orch does about its open pull requests (merge_strategy: pr with a GitHub tracker).',
  ),
  ports: optional(
    z.strictObject({
      base: optional(integerBetween(1024, 65535, 'a port number'), 'First port. Default 41000.'),
      stride: optional(integerAtLeast(1), "Distance between two runs' port ranges. Default 10."),
      count: optional(integerAtLeast(1), 'Ports each run gets (PORT, PORT_1, ...). Default 10.'),
    }),
    'Ports handed to each run so parallel dev servers do not collide.',
  ),
  judge: optional(
    z.strictObject({
      test: command('Test command; must exit 0 for a result to merge.'),
      lint: command('Lint command; a run may not add lint failures.'),
      timeout_s: optional(positiveNumber(), 'Limit for each judge command, in seconds. Default 900.'),
      scope: optional(
        z.strictObject({
          max_files: switchable(integerAtLeast(1), 'A change may touch at most this many files. null: no limit.'),
          allowed_paths: switchable(globList, 'Every changed file must match one of these globs. null: anywhere.'),
          forbidden_paths: optional(globList, 'No changed file may match these globs, e.g. [".github/**", "**/*.lock"]. Default [].'),
        }),
        'Which files a change may touch (globs: * within a directory, ** across directories, {a,b}). Default: any.',
      ),
      review: optional(
        z.strictObject({
          agent: switchable(nameSchema, 'The agent that reviews each change (read-only). null: no review.'),
          rounds: optional(integerAtLeast(1), 'Times a change may come back from review before a person looks. Default 2.'),
        }),
        'An AI review of each change that passed the tests, answering {passed, reasoning, issues}. Default: none.',
      ),
    }),
    "How a run's result is checked before it merges.",
  ),
  hooks: optional(
    z.strictObject({
      after_create: command('Runs in a new worktree, e.g. to install dependencies.'),
      before_run: command('Runs before each agent run.'),
      after_run: command('Runs after each agent run.'),
      before_remove: command('Runs before a worktree is removed.'),
      timeout_s: optional(positiveNumber(), 'Limit for each hook, in seconds. Default 120.'),
    }),
    'Commands run in the worktree at points of its life.',
  ),
  run: optional(
    z.strictObject({
      timeout_s: optional(positiveNumber(), 'An agent run is stopped (timed_out) after this many seconds. Default 3600.'),
      stall_s: optional(positiveNumber(), 'A run that prints nothing for this many seconds is stopped (stalled). Default 600.'),
      max_turns: switchable(integerAtLeast(1), 'Turn limit passed to CLIs that have one. null: none.'),
      cooldown_s: optional(positiveNumber(), 'How long a rate-limited agent rests when the API does not say. Default 60.'),
      max_output_mb: optional(positiveNumber(), 'A run that prints more than this many megabytes (stdout and stderr) is stopped (output_limit). Default 200.'),
    }),
    "Limits of each agent run; Orch enforces them for every CLI.",
  ),
  sandbox: optional(
    z.enum(SANDBOX_SWITCHES),
    'on: every agent, hook and judge command runs in a bubblewrap sandbox that may touch only its worktree (docs/SANDBOX.md); off: with your own rights. Default on.',
  ),
  network: optional(
    z.enum(NETWORK_MODES),
    "A sandboxed run's network. model-only: only the agent's model API; full: the host's network; none: nothing. Default model-only.",
  ),
  sandbox_paths: optional(
    expecting(z.array(absolutePath), 'a list of absolute paths'),
    'Extra paths a sandboxed run may read (toolchains outside /usr, e.g. ~/.cargo). Default [].',
  ),
  copy_files: optional(
    expecting(z.array(repoRelativePath), 'a list of paths relative to the repository root'),
    'Untracked files (e.g. .env) copied from the repository into every worktree.',
  ),
  mode: optional(
    z.enum(PROJECT_MODES),
    'push: Orch starts each ready task with an agent; pull: Orch starts workers that pick and claim their own task. Default push.',
  ),
  prompts: optional(
    z.strictObject({
      implementer: optional(promptPath, 'Template for implement tasks.'),
      tester: optional(promptPath, 'Template for test tasks.'),
      reviewer: optional(promptPath, 'Template for review tasks.'),
      planner: optional(promptPath, 'Template for the planner (orch plan, and tasks to split).'),
      fixer: optional(promptPath, 'Template for fix tasks.'),
    }),
    "Markdown role templates replacing Orch's own: a path relative to the repository root, or absolute. Default: .orch/prompts/<role>.md when the repository has it, else Orch's own.",
  ),
  routing: routingSchema.optional(),
  approvals: optional(
    z.strictObject({
      enabled: optional(z.boolean(), "Route an agent's requests for tools it may not use unasked (and its questions) to the rules below, then a person (docs/APPROVALS.md). Default false."),
      timeout_s: optional(positiveNumber(), 'How long a request waits for a person before on_timeout applies, in seconds. Default 600.'),
      on_timeout: optional(z.enum(TIMEOUT_DEFAULTS), 'What an undecided permission request becomes after timeout_s. Default deny.'),
      ...approvalRuleLists,
      roles: optional(
        z.partialRecord(z.enum(ROLES), z.strictObject(approvalRuleLists)),
        "Rules of one role (implement, test, review, plan, fix), looked at before the project's.",
      ),
      approver: switchable(
        z.strictObject({
          agent: nameSchema.describe('The agent asked (read-only, in a scratch directory) whether a request the rules leave open may go ahead: it answers allow, deny or ask.'),
          budget_usd: optional(positiveNumber(), 'The most one approver run may spend, in USD. Default 0.05.'),
          timeout_s: optional(positiveNumber(), 'Limit of one approver run, in seconds; past it a person decides. Default 60.'),
        }),
        'An LLM approver asked before a person. null: none (a person decides what the rules leave open).',
      ),
    }),
    'People in the loop: permission requests and questions from agents. Default: off.',
  ),
};

export const projectSettingsFileSchema = z.strictObject(projectSettingsShape);
export type ProjectSettingsFile = z.infer<typeof projectSettingsFileSchema>;

/** A repository's own `orch.yaml`. */
export const projectFileSchema = projectSettingsFileSchema.meta({
  title: 'Orch project settings (orch.yaml)',
  description: "One project's settings, kept at its repository root. They override the portfolio's config.yaml.",
});
export type ProjectFile = z.infer<typeof projectFileSchema>;

// ---------------------------------------------------------------- global config.yaml

export const projectEntrySchema = z
  .strictObject({
    path: optional(absolutePath, 'The repository on this machine.'),
    remote: optional(nonEmptyString(), 'Git URL of the repository, when Orch works from a remote.'),
    default_branch: optional(branchNameString, "Branch results land on. Default: the repository's HEAD."),
    ...projectSettingsShape,
  })
  .refine((entry) => entry.path !== undefined || entry.remote !== undefined, {
    message: 'needs a path (a local repository) or a remote (a git URL)',
  });
export type ProjectEntryFile = z.infer<typeof projectEntrySchema>;

const envEntrySchema = expecting(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(=.*)?$/s), 'a variable NAME or NAME=value');

export const agentFileSchema = z
  .strictObject({
    kind: optional(z.enum(AGENT_KINDS), 'Which CLI this is; "command" runs any program. Required for new names.'),
    command: optional(nonEmptyString(), "Executable to run. Default: the kind's usual CLI (claude, codex, ...)."),
    model: switchable(nonEmptyString(), "Model to ask for. null: the CLI's own default."),
    max_concurrent: optional(integerAtLeast(1), 'Runs of this agent at once, across projects. Default 4.'),
    nice: optional(
      expecting(z.int().min(0).max(19), 'an integer from 0 to 19'),
      "How far below Orch's own priority its runs go (the `nice` of the CLI and all it starts), so the daemon, git and the dashboard stay quick while agents work; 0: the same. Default 10.",
    ),
    env: optional(
      z.array(envEntrySchema),
      "Agent environment: NAME passes Orch's variable through, NAME=value sets it. Default [].",
    ),
    args: optional(expecting(z.array(z.string()), 'a list of strings'), 'Extra command-line arguments. Default [].'),
  })
  .describe('An agent CLI Orch can run.');
export type AgentFile = z.infer<typeof agentFileSchema>;

export const modelPriceSchema = z
  .strictObject({
    input: nonNegativeNumber().describe('USD per million input tokens.'),
    output: nonNegativeNumber().describe('USD per million output tokens.'),
  })
  .describe('Used to compute cost when the CLI does not report it.');

/** Only the variable's name is written down: the secret itself never sits in a config file. */
const webhookSourceSchema = (source: string) =>
  z
    .strictObject({
      secret_env: expecting(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), 'an environment variable name').describe(
        `Environment variable of the daemon holding the ${source} webhook secret.`,
      ),
    })
    .optional()
    .describe(`Accept ${source} webhooks at POST /webhooks/${source.toLowerCase()}. Default: refused (404).`);

export const globalConfigFileSchema = z
  .strictObject({
    database_url: optional(
      expecting(z.string().regex(/^postgres(ql)?:\/\//), 'a postgres:// URL, such as postgres://orch@db.example:5432/orch'),
      'PostgreSQL database to keep the state in, which several Orch processes and hosts may share ' +
        '(postgres://user:password@host:5432/database). The ORCH_DATABASE_URL environment variable wins over it. ' +
        'Default: SQLite at $ORCH_HOME/orch.db.',
    ),
    scheduler: z
      .strictObject({
        max_agents: optional(integerAtLeast(1), 'Agents this daemon runs at once across all projects (each daemon sharing a store has its own). Default 4.'),
        tick_interval_s: optional(positiveNumber(), 'Seconds between scheduling passes. Default 10.'),
        lease_s: optional(positiveNumber(), 'A claim expires unless renewed within this many seconds. Default 120.'),
        max_routers: optional(integerAtLeast(1), 'Router runs at once across all projects. Default 2.'),
        host_name: optional(
          expecting(z.string().regex(HOST_NAME_PATTERN), 'a host name (letters, digits, dots, dashes, underscores)'),
          "This daemon's name among the daemons sharing the store (`orch hosts`). Default: the machine's name, with a suffix when another live daemon has it.",
        ),
      })
      .optional(),
    server: z
      .strictObject({
        host: optional(nonEmptyString(), 'Address the HTTP server listens on. Default 127.0.0.1.'),
        port: optional(integerBetween(1, 65535, 'a port number'), 'Default 7878.'),
      })
      .optional(),
    agents: optional(
      z.record(nameSchema, agentFileSchema),
      'Agents by name. claude, codex, opencode and gemini are built in; entries here refine or add to them.',
    ),
    prices: optional(z.record(nonEmptyString(), modelPriceSchema), 'Token prices by model name.'),
    routing: optional(routingSchema, 'Routing of every project (under `defaults:` and each project\'s own `routing:`).'),
    webhooks: z
      .strictObject({ github: webhookSourceSchema('GitHub'), linear: webhookSourceSchema('Linear') })
      .optional()
      .describe('Signed webhooks from trackers, each of which asks the daemon for an immediate tick.'),
    notifications: notificationsSchema.optional(),
    defaults: optional(projectSettingsFileSchema, 'Settings applied to every project.'),
    projects: optional(z.record(nameSchema, projectEntrySchema), 'The portfolio: projects by name.'),
  })
  .meta({
    title: 'Orch configuration (config.yaml)',
    description: 'The portfolio of projects and defaults, kept in $ORCH_HOME/config.yaml.',
  });
export type GlobalConfigFile = z.infer<typeof globalConfigFileSchema>;

// The resolved configuration (what the code reads) lives in settings.ts.
export type * from './settings.js';
