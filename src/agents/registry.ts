// The adapter for each kind of agent CLI.

import type { AgentAdapter, AgentKind } from './agent.js';
import { claudeAdapter } from './claude.js';
import { codexAdapter } from './codex.js';
import { commandAdapter } from './command.js';
import { geminiAdapter } from './gemini.js';
import { opencodeAdapter } from './opencode.js';

const ADAPTERS: Record<AgentKind, AgentAdapter> = {
  claude: claudeAdapter,
  codex: codexAdapter,
  opencode: opencodeAdapter,
  gemini: geminiAdapter,
  command: commandAdapter,
};

export function adapterFor(kind: AgentKind): AgentAdapter {
  return ADAPTERS[kind];
}
