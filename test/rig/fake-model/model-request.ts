// The API-neutral view of one model request and of the reply to it: each API module (anthropic.ts,
// openai-responses.ts, gemini.ts) reads its wire format into a ModelRequest and writes a ModelReply back out.

/** A tool the CLI offered in its request, reduced to what translating a script step needs. */
export interface OfferedTool {
  name: string;
  /** Parameter names from the tool's JSON schema, with their declared type when it is a plain string. */
  properties: Record<string, { type?: string }>;
  required: string[];
  /** An OpenAI "custom" tool: takes one free-form string (codex's apply_patch), no JSON parameters. */
  freeform: boolean;
}

export interface ModelRequest {
  model: string;
  stream: boolean;
  tools: OfferedTool[];
  /**
   * Model responses already in the conversation (runs of assistant / model / function-call items): the index
   * of the script turn to answer. Read from the content, so retries and side requests do not shift it.
   */
  completedTurns: number;
  /** Every string in the request body, for finding the working directory the CLI announces. */
  texts: string[];
}

export interface ToolCall {
  id: string;
  name: string;
  /** JSON arguments, or the raw string for a free-form tool. */
  input: Record<string, unknown> | string;
}

export interface ModelReply {
  /** Text before the tool calls, or the final answer. */
  text: string | null;
  calls: ToolCall[];
  usage: { input: number; output: number };
}

/** Counts maximal runs of model-authored entries: one run is one model response, however the CLI splits it up. */
export function countModelRuns<T>(entries: readonly T[], isModelEntry: (entry: T) => boolean): number {
  let runs = 0;
  let inRun = false;
  for (const entry of entries) {
    const model = isModelEntry(entry);
    if (model && !inRun) runs++;
    inRun = model;
  }
  return runs;
}

/** Every string value inside a parsed JSON value, depth first. */
export function collectStrings(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) collectStrings(item, into);
  return into;
}

/** Reads a JSON schema's property names and required list, tolerating the loose schemas some CLIs send. */
export function offeredTool(name: string, schema: unknown): OfferedTool {
  const object = isRecord(schema) ? schema : {};
  const rawProperties = isRecord(object.properties) ? object.properties : {};
  const properties: OfferedTool['properties'] = {};
  for (const [key, definition] of Object.entries(rawProperties)) {
    const type = isRecord(definition) && typeof definition.type === 'string' ? definition.type.toLowerCase() : undefined;
    properties[key] = type === undefined ? {} : { type };
  }
  const required = Array.isArray(object.required) ? object.required.filter((key): key is string => typeof key === 'string') : [];
  return { name, properties, required, freeform: false };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
