// The config.yaml `orch init` writes: every setting shown with its built-in default, commented out,
// so the file documents itself while the defaults stay Orch's to improve.

export function starterConfigText(schemaPath: string): string {
  return `# yaml-language-server: $schema=${schemaPath}
#
# Orch configuration: the portfolio of projects and the defaults they share.
# Each project may also keep an orch.yaml at its repository root; for that project it wins over
# this file. Merge order, later wins: built-in defaults < defaults: < projects.<name>: < orch.yaml.
# Mappings merge key by key; lists and values replace; null switches an inherited setting off.
# Unknown keys are errors, so a typo cannot go unnoticed. Uncomment a line to change it.

# PostgreSQL instead of the SQLite file $ORCH_HOME/orch.db, for several Orch processes or hosts on one
# database. ORCH_DATABASE_URL wins over it, and keeps a password out of this file.
# database_url: postgres://orch@db.example:5432/orch

# scheduler:
#   max_agents: 4          # agents this daemon runs at once, across all projects
#   tick_interval_s: 10    # seconds between scheduling passes
#   lease_s: 120           # a claim expires unless renewed within this many seconds
#   max_routers: 2         # router runs at once, across all projects
#   host_name: build-1     # this daemon's name among those sharing the store (default: the machine's)

# server:
#   host: 127.0.0.1        # anything but loopback exposes an API that starts agents
#   port: 7878

# Signed webhooks (POST /webhooks/github, /webhooks/linear) that make the daemon tick at once.
# Only the name of the environment variable holding each secret goes here, never the secret.
# webhooks:
#   github: { secret_env: ORCH_GITHUB_WEBHOOK_SECRET }
#   linear: { secret_env: ORCH_LINEAR_WEBHOOK_SECRET }

# Agents by name. claude, codex, opencode and gemini are built in; entries here refine or add.
# agents:
#   claude:
#     model: claude-sonnet-4-5
#     max_concurrent: 4
#     nice: 10                   # runs below Orch's priority; 0: level with it
#     env: [ANTHROPIC_API_KEY]   # NAME passes the variable through, NAME=value sets it
#   my-script:
#     kind: command              # claude | codex | opencode | gemini | command
#     command: ./bin/agent
#     args: [--fast]

# USD per million tokens, for CLIs that do not report their cost.
# prices:
#   claude-sonnet-4-5: { input: 3, output: 15 }

# How each new task finds its agent and model (also under defaults:, per project or in orch.yaml).
# Labels agent:<name>, complexity:<simple|medium|complex> and model:<name> on a task decide first.
# routing:
#   router: { agent: claude, timeout_s: 120, attempts: 2 }   # default: none, the round robin routes
#   weights: { claude: 2, codex: 1 }   # round-robin shares; default 1 each, 0: only as a fallback
#   use_scoreboard: false              # weigh by each agent's success rate over the last 30 days
#   model_map: { simple: { claude: claude-haiku-4-5 }, complex: { claude: claude-opus-4-1 } }

# Settings every project starts from (each may also be set per project or in orch.yaml).
# defaults:
#   priority: 0
#   max_agents: 2
#   agents: [claude]
#   tracker: { kind: local }   # or markdown {dir}, github {repo, labels, assignee, authors}, linear {team, labels, states}
#   merge_strategy: direct     # direct | pr
#   max_attempts: 3
#   backoff: { base_s: 30, cap_s: 3600, jitter: 0.2 }
#   budget: { daily_usd: 20, task_usd: 5, run_usd: 2 }   # default: no limits
#   backpressure: { max_queued: 5, max_open_prs: 10, max_needs_review: 5 }   # default: none
#   ports: { base: 41000, stride: 10, count: 10 }
#   judge:
#     test: [npm, test]              # an argv list, or { shell: "npm test && npm run e2e" }
#     lint: [npx, eslint, .]
#     timeout_s: 900
#     scope: { max_files: 50, forbidden_paths: [".github/**", "**/*.lock"] }   # default: any files
#   hooks:
#     after_create: [npm, ci]
#     timeout_s: 120
#   run: { timeout_s: 3600, stall_s: 600, max_turns: null, cooldown_s: 60 }
#   copy_files: [.env]
#   mode: push                 # push | pull

# The portfolio. \`orch init\` and \`orch project add\` write entries here.
#   web:
#     path: ~/code/web                   # or remote: git@github.com:org/web.git
#     default_branch: main
#     merge_strategy: pr
projects: {}
`;
}
