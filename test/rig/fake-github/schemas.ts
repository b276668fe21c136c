// Checks every body the fake GitHub sends against the response schema GitHub's own OpenAPI description
// gives for that operation and status (github-schemas.json, extracted by scripts/extract-github-schemas.mjs),
// so the fake cannot drift into answers the real API never gives.

import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import * as ajvFormats from 'ajv-formats';

interface SchemaDocument {
  source: { package: string; version: string; extracted_at: string };
  operations: Record<string, { operation_id: string; responses: Record<string, unknown> }>;
  any_operation: Record<string, unknown>;
}

const DOCUMENT_ID = 'https://fake-github.invalid/github-schemas.json';
const DOCUMENT: SchemaDocument = JSON.parse(readFileSync(new URL('./github-schemas.json', import.meta.url), 'utf8'));

// ajv-formats is CommonJS: under NodeNext its function is the namespace's `default`.
const addFormats = ajvFormats.default as unknown as (ajv: Ajv) => Ajv;

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

/** Where the schemas came from, for messages and the rig's own test. */
export const SCHEMA_SOURCE = DOCUMENT.source;

/** The operations the schemas describe, as `METHOD /path/{template}`. */
export const DESCRIBED_OPERATIONS = Object.keys(DOCUMENT.operations);

/**
 * Why `body` is not what GitHub documents for `operation` (`GET /repos/{owner}/{repo}/issues`) answering
 * `status`; empty when it is. A status the description gives no schema for is itself a violation.
 */
export function schemaViolations(operation: string, status: number, body: unknown): string[] {
  const validate = validatorFor(operation, status);
  if (!validate) return [`${operation} ${status}: GitHub's description has no response schema for this status`];
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (error) => `${operation} ${status}: ${error.instancePath || '(body)'} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`,
  );
}

function validatorFor(operation: string, status: number): ValidateFunction | undefined {
  const key = `${operation} ${status}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const pointer = DOCUMENT.operations[operation]?.responses[status] !== undefined
    ? `/operations/${escapePointer(operation)}/responses/${status}`
    : DOCUMENT.any_operation[status] !== undefined
      ? `/any_operation/${status}`
      : undefined;
  if (pointer === undefined) return undefined;
  const validate = schemaCompiler().compile({ $ref: `${DOCUMENT_ID}#${pointer.split('/').map(encodeURIComponent).join('/')}` });
  compiled.set(key, validate);
  return validate;
}

function schemaCompiler(): Ajv {
  if (ajv) return ajv;
  ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  // The document's own top-level keys are not schema keywords; strict mode must know them.
  for (const key of ['source', 'regenerate', 'conversion', 'operations', 'any_operation', 'components']) ajv.addKeyword(key);
  ajv.addSchema({ ...DOCUMENT, $id: DOCUMENT_ID });
  return ajv;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
