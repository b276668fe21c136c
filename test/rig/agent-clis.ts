// Where the pinned, test-only agent CLIs live (test/agent-clis, installed with
// `npm install --prefix test/agent-clis`). They are never runtime dependencies of Orch.

import { accessSync, constants, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type AgentCliKind = 'claude' | 'codex' | 'opencode' | 'gemini';

export const AGENT_CLI_KINDS: readonly AgentCliKind[] = ['claude', 'codex', 'opencode', 'gemini'];

const AGENT_CLIS_DIR = fileURLToPath(new URL('../agent-clis/', import.meta.url));

const PACKAGE_NAMES: Record<AgentCliKind, string> = {
  claude: '@anthropic-ai/claude-code',
  codex: '@openai/codex',
  opencode: 'opencode-ai',
  gemini: '@google/gemini-cli',
};

/** The CLI's executable under test/agent-clis/node_modules/.bin (whether or not it is installed). */
export function cliPath(kind: AgentCliKind): string {
  return `${AGENT_CLIS_DIR}node_modules/.bin/${kind}`;
}

export function cliAvailable(kind: AgentCliKind): boolean {
  try {
    accessSync(cliPath(kind), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The version pinned in test/agent-clis/package.json, e.g. `2.1.197` (names recordings). */
export function pinnedVersion(kind: AgentCliKind): string {
  const manifest = JSON.parse(readFileSync(`${AGENT_CLIS_DIR}package.json`, 'utf8')) as { dependencies: Record<string, string> };
  const version = manifest.dependencies[PACKAGE_NAMES[kind]];
  if (version === undefined) throw new Error(`test/agent-clis/package.json does not pin ${PACKAGE_NAMES[kind]}`);
  return version;
}

/** Why a test that needs the CLI is skipped, for the skip message. */
export function missingCliMessage(kind: AgentCliKind): string {
  return `${kind} CLI not installed at ${cliPath(kind)}: run \`npm install --prefix test/agent-clis\``;
}
