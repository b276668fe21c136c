// Where the agent runs, as each CLI announces it in its prompt. Claude, OpenCode and Gemini insist on absolute
// paths in their file tools, so relative script paths are resolved against this.

const ANNOUNCEMENTS: RegExp[] = [
  /Primary working directory: (\/[^\n]*)/, // Claude Code system prompt
  /<cwd>(\/[^<]*)<\/cwd>/, // Codex environment_context
  /Working directory: (\/[^\n]*)/, // OpenCode <env>
  /Workspace Directories:\**\s*\n\s*- (\/[^\n]*)/, // Gemini CLI session_context
];

export function findWorkingDirectory(texts: readonly string[]): string | null {
  for (const pattern of ANNOUNCEMENTS) {
    for (const text of texts) {
      const match = pattern.exec(text);
      if (match?.[1]) return match[1].trim();
    }
  }
  return null;
}
