import type { Readable } from 'node:stream';

/**
 * Reading an agent's stdout line by line without ever holding more than one capped line: a CLI (or a
 * tool it runs) may print hundreds of megabytes without a newline, and building that as one string
 * would throw (`Invalid string length`) inside Orch. Bytes past the cap are counted, not kept.
 */

export interface OutputLine {
  /** The line's text, at most `maxLineBytes` of it, without its newline. */
  text: string;
  /** How many bytes of the line were left out; 0 for a whole line. */
  cutBytes: number;
}

/** The marker a cut line carries where its end was left out. */
export const cutMarker = (cutBytes: number) => ` …[Orch cut ${cutBytes} bytes of this line]`;

/** The line as it is stored: itself, or its kept start followed by the cut marker. */
export const storedLine = (line: OutputLine) => (line.cutBytes === 0 ? line.text : `${line.text}${cutMarker(line.cutBytes)}`);

/**
 * Yields each line of `input` (LF or CRLF ended; a last line without a newline too), keeping at most
 * `maxLineBytes` of each. `onBytes` hears of every chunk as it arrives, before its lines are yielded,
 * so a caller can count all output, cut bytes included. Reading waits while the consumer works.
 */
export async function* readOutputLines(input: Readable, maxLineBytes: number, onBytes?: (bytes: number) => void): AsyncGenerator<OutputLine> {
  for await (const lines of readOutputChunks(input, maxLineBytes, onBytes)) yield* lines;
}

/**
 * As `readOutputLines`, the lines ended by each chunk read together: one step of the generator per
 * read from the pipe rather than one per line, for a consumer that handles lines one after another.
 */
export async function* readOutputChunks(input: Readable, maxLineBytes: number, onBytes?: (bytes: number) => void): AsyncGenerator<OutputLine[]> {
  let kept: Buffer[] = [];
  let keptBytes = 0;
  let cutBytes = 0;
  const take = (part: Buffer) => {
    const room = maxLineBytes - keptBytes;
    if (room > 0) {
      const head = part.length <= room ? part : part.subarray(0, room);
      kept.push(head);
      keptBytes += head.length;
    }
    cutBytes += Math.max(0, part.length - Math.max(room, 0));
  };
  const finish = (): OutputLine => {
    let buffer = kept.length === 1 ? kept[0]! : Buffer.concat(kept);
    if (cutBytes === 0 && buffer.at(-1) === 0x0d) buffer = buffer.subarray(0, -1);
    const line = { text: buffer.toString('utf8'), cutBytes };
    kept = [];
    keptBytes = 0;
    cutBytes = 0;
    return line;
  };

  for await (const chunk of input as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    const lines: OutputLine[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(0x0a, start); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      take(chunk.subarray(start, newline));
      start = newline + 1;
      lines.push(finish());
    }
    if (start < chunk.length) take(chunk.subarray(start));
    if (lines.length > 0) yield lines;
  }
  if (keptBytes > 0 || cutBytes > 0) yield [finish()];
}
