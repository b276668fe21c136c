// What every tool of `orch mcp` shares: its declaration (a zod input shape the SDK turns into the JSON
// Schema clients see), the store opened for one call, and the reply: a one-line summary and the data.

import type { z } from 'zod';
import { openOrch, type Orch } from '../engine/context.js';

export interface ToolContext {
  /** The ORCH_HOME the server serves. */
  home: string;
  /** Where the client started the server: a task added without a project goes to the one holding it. */
  cwd: string;
  /**
   * Opens the store for one call and closes it after, as a CLI command does: a server a client keeps
   * for days sees config.yaml and the projects as they are now, and holds nothing between calls.
   */
  withOrch<T>(use: (orch: Orch) => Promise<T>): Promise<T>;
  /** After a change: a running daemon ticks now instead of at its next interval. */
  nudge(): Promise<void>;
}

export interface ToolReply {
  /** One line a person reads, as the CLI would print it. */
  summary: string;
  /** The same as JSON, as `--json` would print it. */
  data: unknown;
}

/**
 * What a tool does to Orch's state, told to clients (which may ask a person before a change): it only
 * reads; it adds or moves work on (a new task, a task queued again); or it stops work (a cancel ends a
 * running agent and removes its worktree).
 */
export type ToolEffect = 'reads' | 'changes' | 'stops';

export interface OrchTool {
  name: string;
  title: string;
  description: string;
  input: z.ZodRawShape;
  effect: ToolEffect;
  /** `args` has passed `input`: the SDK checks it before the call. */
  run(ctx: ToolContext, args: Record<string, unknown>): Promise<ToolReply>;
}

/** A tool with its arguments typed by its input shape, kept in a list with tools of other shapes. */
export function defineTool<Shape extends z.ZodRawShape>(tool: Omit<OrchTool, 'input' | 'run'> & { input: Shape; run(ctx: ToolContext, args: z.infer<z.ZodObject<Shape>>): Promise<ToolReply> }): OrchTool {
  return tool as unknown as OrchTool;
}

export function toolContext(home: string, cwd: string, nudge: () => Promise<void>): ToolContext {
  return {
    home,
    cwd,
    async withOrch(use) {
      const orch = await openOrch(home);
      try {
        return await use(orch);
      } finally {
        await orch.close();
      }
    },
    nudge,
  };
}
