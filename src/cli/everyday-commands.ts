// The commands people, scripts and pull agents run many times a day. They run from a bundle of their
// own that Node compiles once and then loads from V8's code cache (cli/main.ts, cli/code-cache.ts);
// every other command loads the group its first word names (cli/program.ts).

/** The groups whose everyday commands the bundle holds, by the command line's first word. */
export type EverydayGroup = 'task' | 'issue' | 'agent' | 'status';

const EVERYDAY_COMMANDS: readonly (readonly [EverydayGroup, string?])[] = [['task', 'add'], ['task', 'list'], ['issue', 'ready'], ['agent', 'claim'], ['status']];

/**
 * The group of an everyday command line (arguments after `orch`), else undefined. The command is named
 * by the first words that are not options, as commander reads them: neither `orch` nor these groups
 * take options with a value before the sub-command.
 */
export function everydayGroup(args: readonly string[]): EverydayGroup | undefined {
  const [group, sub] = args.filter((arg) => !arg.startsWith('-'));
  const found = EVERYDAY_COMMANDS.find(([g, s]) => g === group && (s === undefined || s === sub));
  return found?.[0];
}
