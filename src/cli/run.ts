import type { Command } from 'commander';
import { orchHome } from '../config/home.js';
import { openOrch, type Orch } from '../engine/context.js';
import { EXIT } from './exit-codes.js';
import { describeFailure, makeOutput, showControls, type Output } from './output.js';

export interface CommandIo {
  out: Output;
  home: string;
  /** Opens the initialised ORCH_HOME (once) and closes it when the command ends. */
  orch(): Promise<Orch>;
}

/**
 * Wraps a command's body: gives it output and the store, turns any failure into one line (or a JSON
 * error with --json) and the exit code for its kind. Nothing here prints a stack trace at a person.
 */
export function command<Args extends unknown[]>(body: (io: CommandIo, ...args: Args) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args.at(-1) as Command;
    const json = Boolean(cmd.optsWithGlobals().json);
    const out = makeOutput(json);
    let opened: Orch | undefined;
    const home = orchHome();
    const io: CommandIo = {
      out,
      home,
      orch: async () => (opened ??= await openOrch(home)),
    };
    try {
      await body(io, ...(args.slice(0, -1) as Args));
    } catch (error) {
      const failure = describeFailure(error);
      if (json) process.stdout.write(`${JSON.stringify({ error: failure }, null, 2)}\n`);
      else process.stderr.write(`orch: ${showControls(failure.message)}\n`);
      if (failure.code === 'failure' && process.env.ORCH_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
      process.exitCode = EXIT[failure.code];
    } finally {
      await opened?.close();
    }
  };
}
