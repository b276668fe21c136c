import type { Registrar } from './command-line.js';

export { buildProgram } from './command-line.js';

/**
 * Each group of commands with the top-level words that reach it. Modules load only when their words
 * are used, so `orch task add` does not pay for the daemon, trackers and dashboard at every start
 * (a person and the dispatch latency both wait on it). Listed in the order help shows them.
 */
const COMMAND_GROUPS: { words: string[]; load: () => Promise<Registrar> }[] = [
  { words: ['demo'], load: async () => (await import('./commands/demo.js')).registerDemoCommand },
  { words: ['init'], load: async () => (await import('./commands/init.js')).registerInitCommand },
  { words: ['project'], load: async () => (await import('./commands/project.js')).registerProjectCommands },
  {
    // `run`, `stream` and the task sub-commands attach, live and kill hang off the same `task` command.
    words: ['task', 'run', 'stream'],
    load: async () => (await import('./commands/task-group.js')).registerTaskGroup,
  },
  { words: ['deliver'], load: async () => (await import('./commands/deliver.js')).registerDeliverCommand },
  { words: ['log'], load: async () => (await import('./commands/log.js')).registerLogCommand },
  { words: ['cost'], load: async () => (await import('./commands/cost.js')).registerCostCommand },
  { words: ['job'], load: async () => (await import('./commands/job.js')).registerJobCommands },
  { words: ['plan'], load: async () => (await import('./commands/plan.js')).registerPlanCommand },
  { words: ['agent', 'agents'], load: async () => (await import('./commands/agent-group.js')).registerAgentGroup },
  { words: ['issue'], load: async () => (await import('./commands/issue.js')).registerIssueCommands },
  { words: ['approvals', 'approve', 'deny', 'answer'], load: async () => (await import('./commands/approvals.js')).registerApprovalCommands },
  { words: ['claims'], load: async () => (await import('./commands/claims.js')).registerClaimsCommand },
  { words: ['hosts'], load: async () => (await import('./commands/hosts.js')).registerHostsCommand },
  { words: ['serve'], load: async () => (await import('./commands/serve.js')).registerServeCommand },
  { words: ['service'], load: async () => (await import('./commands/service.js')).registerServiceCommands },
  { words: ['dashboard'], load: async () => (await import('./commands/dashboard.js')).registerDashboardCommand },
  { words: ['store'], load: async () => (await import('./commands/store.js')).registerStoreCommands },
  { words: ['mcp'], load: async () => (await import('./commands/mcp.js')).registerMcpCommand },
  { words: ['doctor'], load: async () => (await import('./commands/doctor.js')).registerDoctorCommand },
  { words: ['status'], load: async () => (await import('./commands/status.js')).registerStatusCommand },
  { words: ['config'], load: async () => (await import('./commands/config.js')).registerConfigCommands },
  { words: ['version'], load: async () => (await import('./commands/version.js')).registerVersionCommand },
];

/** The registrars an invocation needs: its first word's group, none for --version, else all (help, typos). */
export async function registrarsFor(argv: readonly string[]): Promise<Registrar[]> {
  const word = argv.find((arg) => !arg.startsWith('-'));
  if (word === undefined && argv.some((arg) => arg === '-V' || arg === '--version')) return [];
  const group = COMMAND_GROUPS.find((g) => word !== undefined && g.words.includes(word));
  return Promise.all((group ? [group] : COMMAND_GROUPS).map((g) => g.load()));
}
