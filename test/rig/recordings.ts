// Saves what a real CLI printed in an e2e run as a recording other tests can replay (parser tests): stdout
// lines in recordings/<cli>-<version>-<case>.jsonl, and the exit status, stderr and script in manifest.json.
// Machine-specific values are anonymised as in the reference recordings (test/fixtures/agent-streams/).

import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AgentCliKind } from './agent-clis.js';
import type { Script } from './fake-model/script.js';
import type { CliRunResult } from './run-cli.js';

export const RECORDINGS_DIR = fileURLToPath(new URL('./recordings/', import.meta.url));
const MANIFEST = `${RECORDINGS_DIR}manifest.json`;

/** Where a recorded run's directory (holding `repo/` and `home/`) appears in recordings. */
const ANONYMOUS_DIR = '/home/dev';
const ANONYMOUS_PORT = '43210';

export interface RecordingRun {
  cli: AgentCliKind;
  version: string;
  caseName: string;
  /** The temporary directory the run used: `repo/` and `home/` inside it. */
  runDir: string;
  serverPort: number;
  args: string[];
  /** The retry setting the run was given, if any (it shapes api_retry lines). */
  maxRetries: number | null;
  script: Script;
  result: CliRunResult;
}

export interface ManifestEntry {
  cli: AgentCliKind;
  version: string;
  case: string;
  exitCode: number | null;
  signal: string | null;
  args: string[];
  maxRetries: number | null;
  script: Script;
  stderr: string;
}

export function recordingName(run: Pick<RecordingRun, 'cli' | 'version' | 'caseName'>): string {
  return `${run.cli}-${run.version}-${run.caseName}.jsonl`;
}

export function saveRecording(run: RecordingRun): string {
  const anonymise = anonymiser(run.runDir, run.serverPort);
  const name = recordingName(run);
  mkdirSync(RECORDINGS_DIR, { recursive: true });
  const lines = run.result.stdout.split('\n').filter((line) => line.trim() !== '');
  writeFileSync(`${RECORDINGS_DIR}${name}`, lines.map(anonymise).join('\n') + '\n');

  const manifest = existsSync(MANIFEST) ? (JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, ManifestEntry>) : {};
  manifest[name] = {
    cli: run.cli,
    version: run.version,
    case: run.caseName,
    exitCode: run.result.exitCode,
    signal: run.result.signal,
    args: run.args.map(anonymise),
    maxRetries: run.maxRetries,
    script: run.script,
    stderr: anonymise(run.result.stderr).slice(0, 4000),
  };
  const sorted = Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(MANIFEST, `${JSON.stringify(sorted, null, 2)}\n`);
  return name;
}

/** Replaces the run directory (also in Claude's dash-encoded project form) and the fake server's port. */
export function anonymiser(runDir: string, serverPort: number): (text: string) => string {
  const directories = [...new Set([realpathSync(runDir), runDir])];
  return (text) => {
    let anonymised = text;
    for (const directory of directories) {
      anonymised = anonymised.replaceAll(directory, ANONYMOUS_DIR).replaceAll(directory.replaceAll('/', '-'), ANONYMOUS_DIR.replaceAll('/', '-'));
    }
    return anonymised.replaceAll(`127.0.0.1:${serverPort}`, `127.0.0.1:${ANONYMOUS_PORT}`);
  };
}
