// Translates a CLI-neutral script step into a call of a tool the CLI actually offered, reading tool and
// parameter names from the request: Claude `Write{file_path}`, OpenCode `write{filePath}`, Gemini
// `write_file{file_path}` / `replace{…, instruction}`, Codex `exec_command{cmd}` (no file tools of its own).

import { dirname, isAbsolute, join } from 'node:path';
import type { OfferedTool, ToolCall } from './model-request.js';
import type { ToolStep } from './script.js';

export interface BindingContext {
  tools: OfferedTool[];
  workingDirectory: string | null;
  /**
   * Codex intercepts `apply_patch` heredocs given to its shell tool and applies them as file changes
   * (reported as `file_change` items), which is how the real model edits files there.
   */
  shellRunsApplyPatch: boolean;
}

export class ToolBindingError extends Error {}

/** A step the CLI's own tools carry out: a file written or edited, a shell command (an MCP server's or a `named` tool needs no translation). */
type BuiltinStep = Exclude<ToolStep, { tool: 'mcp' } | { tool: 'named' }>;

const TOOL_NAMES = {
  write_file: ['write', 'write_file', 'create_file'],
  edit_file: ['edit', 'replace', 'edit_file', 'str_replace'],
  shell: ['bash', 'exec_command', 'run_shell_command', 'shell'],
} as const;

const PARAMETER_NAMES = {
  path: ['file_path', 'filePath', 'path'],
  content: ['content'],
  old: ['old_string', 'oldString', 'old_str'],
  new: ['new_string', 'newString', 'new_str'],
  command: ['command', 'cmd'],
} as const;

/** Filler for required parameters the script has no value for (Gemini's `replace` wants an `instruction`). */
const FILLER = 'Scripted by the fake model server';

export function bindToolStep(step: ToolStep, id: string, context: BindingContext): ToolCall {
  if (step.tool === 'mcp') return bindMcpStep(step, id, context);
  if (step.tool === 'named') {
    if (!context.tools.some((tool) => tool.name === step.name)) throw new ToolBindingError(`no tool ${step.name} among ${toolNames(context)}`);
    return { id, name: step.name, input: step.input };
  }
  const resolved: BuiltinStep = step.tool === 'shell' ? step : { ...step, path: resolvePath(step.path, context.workingDirectory) };
  const dedicated = findTool(context.tools, TOOL_NAMES[step.tool]);
  if (dedicated && !dedicated.freeform) return { id, name: dedicated.name, input: toolInput(dedicated, resolved) };
  if (resolved.tool === 'shell') throw new ToolBindingError(`no shell tool among ${toolNames(context)}`);
  const patchTool = findTool(context.tools, ['apply_patch']);
  if (patchTool && canExpressAsPatch(resolved)) return { id, name: patchTool.name, input: patchToolInput(patchTool, applyPatch(resolved)) };
  const shell = findTool(context.tools, TOOL_NAMES.shell);
  if (!shell) throw new ToolBindingError(`no tool for ${step.tool} and no shell tool among ${toolNames(context)}`);
  const command = context.shellRunsApplyPatch && canExpressAsPatch(resolved) ? applyPatchHeredoc(resolved) : shellCommandFor(resolved);
  return { id, name: shell.name, input: toolInput(shell, { tool: 'shell', command }) };
}

/** CLIs offer an MCP server's tools under names of their own making: Claude `mcp__<server>__<tool>`. */
function bindMcpStep(step: Extract<ToolStep, { tool: 'mcp' }>, id: string, context: BindingContext): ToolCall {
  const tool = context.tools.find((candidate) => candidate.name === step.name || candidate.name.endsWith(`__${step.name}`));
  if (!tool) throw new ToolBindingError(`no MCP tool ${step.name} among ${toolNames(context)}`);
  return { id, name: tool.name, input: step.input };
}

function resolvePath(path: string, workingDirectory: string | null): string {
  return isAbsolute(path) || workingDirectory === null ? path : join(workingDirectory, path);
}

function findTool(tools: OfferedTool[], names: readonly string[]): OfferedTool | undefined {
  for (const name of names) {
    const tool = tools.find((candidate) => candidate.name.toLowerCase() === name);
    if (tool) return tool;
  }
  return undefined;
}

function toolNames(context: BindingContext): string {
  return `[${context.tools.map((tool) => tool.name).join(', ')}]`;
}

function toolInput(tool: OfferedTool, step: BuiltinStep): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const set = (role: keyof typeof PARAMETER_NAMES, value: unknown): void => {
    const name = PARAMETER_NAMES[role].find((candidate) => candidate in tool.properties) ?? PARAMETER_NAMES[role][0];
    // Codex's older `shell` tool takes argv rather than a command line.
    input[name] = role === 'command' && tool.properties[name]?.type === 'array' ? ['bash', '-lc', value] : value;
  };
  if (step.tool === 'shell') set('command', step.command);
  if (step.tool === 'write_file') {
    set('path', step.path);
    set('content', step.content);
  }
  if (step.tool === 'edit_file') {
    set('path', step.path);
    set('old', step.old);
    set('new', step.new);
  }
  for (const name of tool.required) {
    if (!(name in input) && (tool.properties[name]?.type ?? 'string') === 'string') input[name] = FILLER;
  }
  return input;
}

function patchToolInput(tool: OfferedTool, patch: string): ToolCall['input'] {
  if (tool.freeform) return patch;
  const name = ['input', 'patch', 'command'].find((candidate) => candidate in tool.properties) ?? 'input';
  return { [name]: tool.properties[name]?.type === 'array' ? ['apply_patch', patch] : patch };
}

/**
 * apply_patch works on whole lines and always ends a file with a newline, so it can only say exactly what the
 * script says when the content (or both sides of an edit) ends with one.
 */
function canExpressAsPatch(step: BuiltinStep): boolean {
  if (step.tool === 'write_file') return step.content === '' || step.content.endsWith('\n');
  if (step.tool === 'edit_file') return step.old.endsWith('\n') && step.new.endsWith('\n');
  return false;
}

function patchLines(text: string, prefix: string): string[] {
  return text === '' ? [] : text.replace(/\n$/, '').split('\n').map((line) => prefix + line);
}

function applyPatch(step: BuiltinStep): string {
  const body =
    step.tool === 'write_file'
      ? [`*** Add File: ${step.path}`, ...patchLines(step.content, '+')]
      : step.tool === 'edit_file'
        ? [`*** Update File: ${step.path}`, '@@', ...patchLines(step.old, '-'), ...patchLines(step.new, '+')]
        : [];
  return ['*** Begin Patch', ...body, '*** End Patch'].join('\n');
}

const HEREDOC_END = 'ORCH_FAKE_MODEL_PATCH_END';

function applyPatchHeredoc(step: BuiltinStep): string {
  return `apply_patch <<'${HEREDOC_END}'\n${applyPatch(step)}\n${HEREDOC_END}`;
}

/** A POSIX shell word that stands for exactly `text`. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function shellCommandFor(step: BuiltinStep): string {
  if (step.tool === 'shell') return step.command;
  const path = shellQuote(step.path);
  if (step.tool === 'write_file') return `mkdir -p ${shellQuote(dirname(step.path))} && printf '%s' ${shellQuote(step.content)} > ${path}`;
  // Literal first-occurrence replacement, like Claude's Edit: \Q…\E quotes the pattern, and an
  // interpolated $ENV{…} is not interpolated again.
  return `OLD=${shellQuote(step.old)} NEW=${shellQuote(step.new)} perl -0777 -pi -e 's/\\Q$ENV{OLD}\\E/$ENV{NEW}/' ${path}`;
}
