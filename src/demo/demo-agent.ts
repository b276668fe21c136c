#!/usr/bin/env node
// The offline demo agent: a `command` agent shipped with Orch so `orch demo` shows the whole pipeline
// without an API key. It reads its prompt (the file ORCH_PROMPT_FILE names), does the demo task it recognises in the
// working directory, narrates like a coding agent (JSON-line events), and ends with the result block.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';

const prompt = process.env.ORCH_PROMPT_FILE ? readFileSync(process.env.ORCH_PROMPT_FILE, 'utf8') : '';
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const write = (path: string, content: string) => {
  say({ type: 'tool_call', id: path, name: 'write_file', input: { path } });
  writeFileSync(path, content);
  say({ type: 'tool_result', id: path, output: `wrote ${path}`, isError: false });
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const binary = (name: string, op: string, sixAndThree: number) => ({
  [`src/${name}.js`]: `export const ${name} = (a, b) => a ${op} b;\n`,
  [`test/${name}.test.mjs`]: `import assert from 'node:assert/strict';\nimport { ${name} } from '../src/${name}.js';\nassert.equal(${name}(6, 3), ${sixAndThree});\n`,
});

const recipes: { match: RegExp; files: () => Record<string, string>; summary: string }[] = [
  { match: /multiply function/i, files: () => binary('multiply', '*', 18), summary: 'added multiply(a, b) with a test' },
  { match: /subtract function/i, files: () => binary('subtract', '-', 3), summary: 'added subtract(a, b) with a test' },
  {
    match: /power function/i,
    files: () => ({
      'src/power.js': "import { multiply } from './multiply.js';\n\nexport const power = (base, exponent) => {\n  let result = 1;\n  for (let i = 0; i < exponent; i++) result = multiply(result, base);\n  return result;\n};\n",
      'test/power.test.mjs': "import assert from 'node:assert/strict';\nimport { power } from '../src/power.js';\nassert.equal(power(2, 10), 1024);\n",
    }),
    summary: 'added power(base, exponent) on top of multiply, with a test',
  },
  {
    match: /document the functions/i,
    files: () => {
      const names = existsSync('src') ? readdirSync('src').filter((f) => f.endsWith('.js')).map((f) => f.replace(/\.js$/, '')).sort() : [];
      const readme = readFileSync('README.md', 'utf8').replace(/\n## Functions[\s\S]*$/, '\n');
      return { 'README.md': `${readme.trimEnd()}\n\n## Functions\n\n${names.map((n) => `- \`${n}\``).join('\n')}\n` };
    },
    summary: 'listed every exported function in the README',
  },
];

say({ type: 'session_started', sessionId: `demo-${process.pid}`, model: 'orch-demo', cwd: process.cwd(), tools: ['write_file'] });
const recipe = recipes.find((r) => r.match.test(prompt));
if (!recipe) {
  say({ type: 'assistant_text', text: 'This demo agent only knows the demo tasks; nothing to do here.' });
  process.stdout.write('```json\n{"status":"blocked","summary":"not a demo task","remaining":"a real agent is needed","follow_ups":[]}\n```\n');
  process.exit(0);
}
say({ type: 'assistant_text', text: 'Reading the task and the code around it.' });
await pause(400);
for (const [path, content] of Object.entries(recipe.files())) {
  write(path, content);
  await pause(300);
}
say({ type: 'usage', inputTokens: 1200, outputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 0, model: 'orch-demo', cumulative: false });
say({ type: 'assistant_text', text: `Done: ${recipe.summary}.` });
process.stdout.write(`\`\`\`json\n${JSON.stringify({ status: 'done', summary: recipe.summary, remaining: '', follow_ups: [] })}\n\`\`\`\n`);
