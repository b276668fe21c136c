import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTask, serializeTask, type Criterion, type MarkdownTask } from '../../src/trackers/markdown-task.js';

// Tasks in the format's canonical domain: text blocks without `:`-led header look-alikes, `## `
// headings or fences outside code blocks, and no blank first or last line (see MarkdownTask).

const word = fc.stringMatching(/^[A-Za-z0-9.,'()!?*+=-]{1,8}$/);
const line = fc.array(word, { minLength: 1, maxLength: 6 }).map((words) => words.join(' '));

/** A fenced code block whose `#` lines must not be read as a title or sections. */
const codeBlock = fc
  .tuple(
    fc.constantFrom('```', '```sh', '~~~'),
    fc.array(fc.oneof(line, line.map((text) => `# ${text}`), line.map((text) => `## ${text}`)), { maxLength: 4 }),
  )
  .map(([open, body]) => [open, ...body, open.slice(0, 3)].join('\n'));

const textBlock = fc
  .tuple(line, fc.array(fc.oneof(line, line.map((text) => `  ${text}`), fc.constant(''), codeBlock), { maxLength: 6 }), line)
  .map(([first, middle, last]) => [first, ...middle, last].join('\n'));

const normalizeName = (name: string) => name.replace(/[\s_-]+/g, '').toLowerCase();
const KNOWN = new Set(['role', 'priority', 'branch', 'created', 'createdby']);

const headerName = fc
  .array(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,9}$/), { minLength: 1, maxLength: 2 })
  .map((words) => words.join(' '))
  .filter((name) => !KNOWN.has(normalizeName(name)));

const criterion: fc.Arbitrary<Criterion> = fc
  .tuple(
    fc.constantFrom(true, false, null),
    fc.option(line, { nil: '' }),
    fc.array(fc.oneof(line, line.map((text) => `  ${text}`), fc.constant('')), { maxLength: 3 }),
  )
  .map(([checked, first, rest]) => {
    while (rest.length > 0 && rest[rest.length - 1] === '') rest.pop();
    // A plain bullet with no text is not an item.
    const head = checked === null && first === '' ? 'item' : first;
    return { checked, text: [head, ...rest].join('\n') };
  });

const sectionHeading = line.filter((heading) => !['context', 'acceptancecriteria'].includes(normalizeName(heading)));

const taskArbitrary: fc.Arbitrary<MarkdownTask> = fc.record({
  id: fc.option(fc.oneof(fc.stringMatching(/^TASK-[0-9a-f]{8}$/), fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/)), { nil: null }),
  title: line,
  role: fc.option(fc.oneof(fc.constantFrom('implement', 'tester', 'reviewer', 'product_manager'), line), { nil: null }),
  priority: fc.option(fc.integer({ min: 0, max: 999 }), { nil: null }),
  branch: fc.option(fc.stringMatching(/^[a-z][a-z0-9/_-]{0,15}$/), { nil: null }),
  created: fc.option(
    fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString()),
    { nil: null },
  ),
  createdBy: fc.option(line, { nil: null }),
  otherHeaders: fc.array(fc.record({ name: headerName, value: fc.oneof(fc.constant(''), line) }), { maxLength: 3 }),
  description: fc.option(textBlock, { nil: null }),
  context: fc.option(fc.oneof(fc.constant(''), textBlock), { nil: null }),
  acceptanceCriteria: fc.option(fc.array(criterion, { maxLength: 5 }), { nil: null }),
  sections: fc.array(fc.record({ heading: sectionHeading, text: fc.oneof(fc.constant(''), textBlock) }), { maxLength: 3 }),
});

/** The same task as a hurried person might type it: nothing here may change what it means. */
interface Mess {
  crlf: boolean;
  leadingBlanks: number;
  blanksBetweenHeaders: number;
  headerCase: 'upper' | 'lower' | 'title';
  priorityForm: 'P' | 'p' | 'bare' | 'spaced';
  spaceAroundColon: boolean;
  blanksBeforeSections: number;
  headingStyle: 'plain' | 'lower' | 'tight' | 'closed';
  bullet: '-' | '*' | '+' | '1.';
  upperX: boolean;
}

const messArbitrary: fc.Arbitrary<Mess> = fc.record({
  crlf: fc.boolean(),
  leadingBlanks: fc.integer({ min: 0, max: 2 }),
  blanksBetweenHeaders: fc.integer({ min: 0, max: 2 }),
  headerCase: fc.constantFrom('upper', 'lower', 'title'),
  priorityForm: fc.constantFrom('P', 'p', 'bare', 'spaced'),
  spaceAroundColon: fc.boolean(),
  blanksBeforeSections: fc.integer({ min: 1, max: 3 }),
  headingStyle: fc.constantFrom('plain', 'lower', 'tight', 'closed'),
  bullet: fc.constantFrom('-', '*', '+', '1.'),
  upperX: fc.boolean(),
});

function messyText(task: MarkdownTask, mess: Mess): string {
  const spell = (name: string) =>
    mess.headerCase === 'upper' ? name : mess.headerCase === 'lower' ? name.toLowerCase() : name.charAt(0) + name.slice(1).toLowerCase().replace('_by', ' By');
  const header = (name: string, value: string) => (mess.spaceAroundColon ? `${name} :  ${value}  ` : `${name}:${value === '' ? '' : ' '}${value}`);
  const priority = (level: number) => ({ P: `P${level}`, p: `p${level}`, bare: `${level}`, spaced: `P ${level}` })[mess.priorityForm];
  const heading = (name: string) =>
    ({ plain: `## ${name}`, lower: `## ${name.toLowerCase()}`, tight: `##${name}`, closed: `## ${name} ##` })[mess.headingStyle];
  const bullet = (item: Criterion) => {
    const box = item.checked === null ? '' : item.checked ? (mess.upperX ? '[X] ' : '[x] ') : '[ ] ';
    const [first = '', ...rest] = item.text.split('\n');
    const indent = ' '.repeat(mess.bullet.length + 1);
    return [`${mess.bullet} ${box}${first}`, ...rest.map((text) => (text === '' ? '' : indent + text))].join('\n');
  };

  const headers: string[] = [];
  if (task.role !== null) headers.push(header(spell('ROLE'), task.role));
  if (task.priority !== null) headers.push(header(spell('PRIORITY'), priority(task.priority)));
  if (task.branch !== null) headers.push(header(spell('BRANCH'), task.branch));
  if (task.created !== null) headers.push(header(spell('CREATED'), task.created));
  if (task.createdBy !== null) headers.push(header(spell('CREATED_BY'), task.createdBy));
  for (const other of task.otherHeaders) headers.push(header(other.name, other.value));

  const gap = (blanks: number) => Array<string>(blanks).fill('');
  const lines = [...gap(mess.leadingBlanks), task.id === null ? `# ${task.title}` : `#  [${task.id}]  ${task.title}  `, ''];
  for (const text of headers) lines.push(text, ...gap(mess.blanksBetweenHeaders));
  lines.push('');
  if (task.description !== null) lines.push(task.description);
  if (task.context !== null) lines.push(...gap(mess.blanksBeforeSections), heading('Context'), '', task.context, '');
  if (task.acceptanceCriteria !== null) {
    lines.push(...gap(mess.blanksBeforeSections), heading('Acceptance Criteria'), ...task.acceptanceCriteria.map(bullet));
  }
  for (const section of task.sections) lines.push(...gap(mess.blanksBeforeSections), `## ${section.heading}`, section.text, '');
  return lines.join(mess.crlf ? '\r\n' : '\n');
}

describe('the task file round trip', () => {
  it('reads back every task it writes: parse(serialize(task)) equals task', () => {
    fc.assert(
      fc.property(taskArbitrary, (task) => {
        expect(parseTask(serializeTask(task), 'task.md')).toEqual(task);
      }),
      { numRuns: 500 },
    );
  });

  it('writes the same text for a task it has read: serialize is a fixed point after one parse', () => {
    fc.assert(
      fc.property(taskArbitrary, messArbitrary, (task, mess) => {
        const once = serializeTask(parseTask(messyText(task, mess), 'task.md'));
        expect(serializeTask(parseTask(once, 'task.md'))).toBe(once);
      }),
      { numRuns: 300 },
    );
  });

  it('reads what hands write (header case, blank lines, CRLF, other bullets) as the same task', () => {
    fc.assert(
      fc.property(taskArbitrary, messArbitrary, (task, mess) => {
        expect(parseTask(messyText(task, mess), 'task.md')).toEqual(task);
      }),
      { numRuns: 500 },
    );
  });
});
