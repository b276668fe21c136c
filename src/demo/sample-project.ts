/**
 * The sample repository `orch demo` works on: a tiny calculator library with a real test suite, and the
 * tasks the demo adds to its backlog. The offline demo agent knows how to do each of them.
 */
export const SAMPLE_FILES: Record<string, string> = {
  'README.md': '# calc\n\nA tiny calculator library, used by the Orch demo.\n',
  'package.json': `${JSON.stringify({ name: 'calc', version: '1.0.0', type: 'module', private: true, scripts: { test: 'node test/run.mjs' } }, null, 2)}\n`,
  'src/add.js': 'export const add = (a, b) => a + b;\n',
  'test/run.mjs': [
    "// Runs every test/*.test.mjs file; exits 1 on the first failure.",
    "import { readdirSync } from 'node:fs';",
    "let failed = 0;",
    "for (const file of readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.test.mjs')).sort()) {",
    "  try { await import(`./${file}`); console.log(`ok   ${file}`); }",
    "  catch (error) { failed++; console.log(`FAIL ${file}: ${error.message}`); }",
    "}",
    "process.exit(failed ? 1 : 0);",
    '',
  ].join('\n'),
  'test/add.test.mjs': "import assert from 'node:assert/strict';\nimport { add } from '../src/add.js';\nassert.equal(add(2, 3), 5);\n",
};

export interface DemoTask {
  title: string;
  body: string;
  labels: string[];
  /** Indexes (0-based) of demo tasks this one depends on. */
  dependsOn: number[];
}

export const DEMO_TASKS: DemoTask[] = [
  { title: 'Add a multiply function', body: 'Export `multiply(a, b)` from src/multiply.js, with a test.', labels: ['feature'], dependsOn: [] },
  { title: 'Add a subtract function', body: 'Export `subtract(a, b)` from src/subtract.js, with a test.', labels: ['feature'], dependsOn: [] },
  { title: 'Add a power function built on multiply', body: 'Export `power(base, exponent)` from src/power.js using multiply, with a test.', labels: ['feature'], dependsOn: [0] },
  { title: 'Document the functions in the README', body: 'List every exported function in README.md.', labels: ['docs'], dependsOn: [0, 1, 2] },
];
