#!/usr/bin/env node
// Extracts, from GitHub's official OpenAPI description, the response schemas of the operations the fake
// GitHub in test/rig/fake-github/ serves, so every body the fake sends is checked against what GitHub
// documents. The description ships in the npm package @octokit/openapi (13 MB, so it is fetched when
// needed rather than installed):
//
//   cd "$(mktemp -d)" && npm pack @octokit/openapi && tar -xzf octokit-openapi-*.tgz
//   node <orch>/scripts/extract-github-schemas.mjs "$PWD/package/generated/api.github.com.json"
//
// writes test/rig/fake-github/github-schemas.json (or the path given as a second argument). When the fake
// learns a new operation, add it to OPERATIONS below and run the script again.
//
// The OpenAPI 3.0 schemas become plain JSON Schema (draft-07) on the way: `nullable: true` turns into a
// `null` type (or an `anyOf` with one), and what only documents (descriptions, examples, `x-` extensions)
// is dropped. `$ref`s stay as `#/components/schemas/<name>`, each referenced schema copied once into the
// output's own `components` map.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the fake serves: method and path template as GitHub's description spells them. */
const OPERATIONS = [
  ['get', '/repos/{owner}/{repo}/issues'],
  ['post', '/repos/{owner}/{repo}/issues'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}'],
  ['patch', '/repos/{owner}/{repo}/issues/{issue_number}'],
  ['get', '/repos/{owner}/{repo}/labels'],
  ['post', '/repos/{owner}/{repo}/labels'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/labels'],
  ['delete', '/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['get', '/repos/{owner}/{repo}/issues/comments'],
  ['patch', '/repos/{owner}/{repo}/issues/comments/{comment_id}'],
  ['get', '/repos/{owner}/{repo}/pulls'],
  ['post', '/repos/{owner}/{repo}/pulls'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}/sub_issues'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/sub_issues'],
  ['put', '/repos/{owner}/{repo}/pulls/{pull_number}/merge'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews'],
  ['post', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}/comments'],
  ['post', '/repos/{owner}/{repo}/pulls/{pull_number}/comments'],
  ['post', '/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies'],
  ['get', '/repos/{owner}/{repo}/commits/{ref}/check-runs'],
  ['get', '/repos/{owner}/{repo}/commits/{ref}/check-suites'],
  ['get', '/repos/{owner}/{repo}/check-runs/{check_run_id}'],
  ['get', '/repos/{owner}/{repo}/actions/runs/{run_id}'],
  ['get', '/repos/{owner}/{repo}/actions/runs/{run_id}/jobs'],
  ['post', '/repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs'],
  ['get', '/repos/{owner}/{repo}/actions/jobs/{job_id}/logs'],
  ['get', '/repos/{owner}/{repo}/commits/{ref}/status'],
  ['post', '/repos/{owner}/{repo}/statuses/{sha}'],
];

/**
 * Answers GitHub may give to any operation although few list them: bad credentials (401), rate limits
 * (403, 429) and not found (404, also what a token without access sees), each with the generic error
 * object as its body; and invalid input to a write (422, e.g. a commit status whose `state` is none of
 * GitHub's four), with the validation error object.
 */
const ANY_OPERATION = { 401: 'basic-error', 403: 'basic-error', 404: 'basic-error', 422: 'validation-error', 429: 'basic-error' };

/** Keys that only document a schema; validation never reads them. */
const DOCUMENTATION_KEYS = new Set(['description', 'example', 'examples', 'title', 'externalDocs', 'deprecated', 'readOnly', 'writeOnly', 'xml']);

const SCHEMA_REF = '#/components/schemas/';

function main() {
  const [input, output = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'rig', 'fake-github', 'github-schemas.json')] =
    process.argv.slice(2);
  if (!input) {
    console.error('usage: node scripts/extract-github-schemas.mjs <@octokit/openapi>/generated/api.github.com.json [output.json]');
    process.exit(2);
  }
  const description = JSON.parse(readFileSync(input, 'utf8'));
  const pkg = JSON.parse(readFileSync(join(dirname(resolve(input)), '..', 'package.json'), 'utf8'));

  const wanted = new Set();
  const operations = {};
  for (const [method, path] of OPERATIONS) {
    const operation = description.paths[path]?.[method];
    if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the description`);
    const responses = {};
    for (const [status, response] of Object.entries(operation.responses)) {
      const schema = responseSchema(description, response);
      if (schema === undefined) continue;
      responses[status] = toJsonSchema(schema, wanted);
    }
    operations[`${method.toUpperCase()} ${path}`] = { operation_id: operation.operationId, responses };
  }
  const anyOperation = Object.fromEntries(
    Object.entries(ANY_OPERATION).map(([status, name]) => [status, toJsonSchema({ $ref: SCHEMA_REF + name }, wanted)]),
  );

  // Referenced schemas reference others: copy until the set stops growing.
  const schemas = {};
  for (let pending = [...wanted]; pending.length > 0; pending = [...wanted].filter((name) => !(name in schemas))) {
    for (const name of pending) {
      const schema = description.components.schemas[name];
      if (!schema) throw new Error(`${SCHEMA_REF}${name} is not in the description`);
      schemas[name] = toJsonSchema(schema, wanted);
    }
  }

  const result = {
    source: {
      package: pkg.name,
      version: pkg.version,
      document: 'generated/api.github.com.json',
      openapi: description.openapi,
      api_version: description.info?.version ?? null,
      extracted_at: new Date().toISOString(),
    },
    regenerate:
      'npm pack @octokit/openapi && tar -xzf octokit-openapi-*.tgz && node scripts/extract-github-schemas.mjs package/generated/api.github.com.json',
    conversion: 'OpenAPI 3.0 to JSON Schema draft-07: nullable becomes a null type; descriptions, examples and x- extensions dropped',
    operations,
    any_operation: anyOperation,
    components: { schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) },
  };
  writeFileSync(output, `${JSON.stringify(result, null, 1)}\n`);
  console.log(`${relative(process.cwd(), output)}: ${OPERATIONS.length} operations, ${Object.keys(schemas).length} component schemas from ${pkg.name}@${pkg.version}`);
}

/** The JSON body schema of a response, following a `#/components/responses/...` reference; undefined: no body. */
function responseSchema(description, response) {
  const resolved = response.$ref ? lookup(description, response.$ref) : response;
  return resolved.content?.['application/json']?.schema;
}

function lookup(description, ref) {
  const value = ref
    .slice(2)
    .split('/')
    .reduce((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], description);
  if (value === undefined) throw new Error(`unresolvable $ref ${ref}`);
  return value;
}

/** One OpenAPI 3.0 schema as JSON Schema, noting every component schema it references in `wanted`. */
function toJsonSchema(schema, wanted) {
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item, wanted));
  if (schema === null || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string') {
    if (!schema.$ref.startsWith(SCHEMA_REF)) throw new Error(`unexpected $ref ${schema.$ref}`);
    wanted.add(schema.$ref.slice(SCHEMA_REF.length));
    // In OpenAPI 3.0 siblings of $ref are ignored; keep only the reference.
    return { $ref: schema.$ref };
  }
  const converted = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DOCUMENTATION_KEYS.has(key) || key.startsWith('x-') || key === 'nullable' || key === 'discriminator') continue;
    if (key === 'properties' || key === 'patternProperties') {
      converted[key] = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, toJsonSchema(property, wanted)]));
    } else if (key === 'default' || key === 'enum' || key === 'const') {
      converted[key] = value;
    } else {
      converted[key] = toJsonSchema(value, wanted);
    }
  }
  return schema.nullable === true ? allowNull(converted) : converted;
}

function allowNull(schema) {
  if (typeof schema.type === 'string') {
    const nullable = { ...schema, type: [schema.type, 'null'] };
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) nullable.enum = [...schema.enum, null];
    return nullable;
  }
  return { anyOf: [schema, { type: 'null' }] };
}

main();
