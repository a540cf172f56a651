/**
 * Turns schema validation issues into the `{field, problem}` pairs of a 400's `details.issues` (and of any
 * other tool's messages about bad input), worded for the caller rather than in the validator's terms.
 */
import type { FieldIssue } from './api';
import { keyAsNamed } from './methods';

type RawIssue = {
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
  message: string;
  code?: string;
  /** invalid_key (a record's key): the key's own problems. */
  issues?: RawIssue[];
  keys?: string[];
  /** invalid_type: the type wanted (zod's name for it: 'number', 'int', 'record', ...), and what was received ('Infinity', ...). */
  expected?: string;
  received?: string;
  /** invalid_value: the values allowed. */
  values?: unknown[];
  /** invalid_union on a discriminated union: the discriminator's values. */
  options?: unknown[];
  note?: string;
  /** too_big / too_small: what is measured ('string', 'array', 'number', ...) and the limit. */
  origin?: string;
  maximum?: number | bigint;
  minimum?: number | bigint;
  inclusive?: boolean;
};

/** The value at `path` in `data`, or undefined when it (or an object on the way) is missing. */
function valueAt(data: unknown, path: readonly string[]): unknown {
  let value = data;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const withArticle = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

/** zod's type names as a caller knows them. */
const TYPE_NAMES: Readonly<Record<string, string>> = { int: 'an integer', record: 'an object', tuple: 'an array', bigint: 'an integer' };

/**
 * What a value is, for "(got ...)": its kind, never the value itself (a card number or a CVC sent as a JSON
 * number must not come back in the error, nor reach a log through it).
 */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number with a fraction';
  return withArticle(typeof value);
}

/** The allowed values of an enum or of a discriminated union's discriminator, or undefined for other issues. */
function allowed(issue: RawIssue): string | undefined {
  const values = issue.code === 'invalid_value' ? issue.values : issue.code === 'invalid_union' && issue.note === 'No matching discriminator' ? issue.options : undefined;
  return values?.length ? `one of ${values.map(String).join(', ')}` : undefined;
}

/** zod's own wording (no message set by the schema), which is the only wording replaced here. */
const ZOD_DEFAULT = /^(Invalid input|Invalid option|Invalid discriminator value|Too big|Too small)/;

/**
 * Field-level problems from a validation error (Standard Schema issues, as the Powertools parser's cause, or a
 * ZodError), for the data that failed: one per field, with its dotted path. Each unknown field "is not a
 * recognised field". Where zod words the problem itself, it is said plainly: a missing field "is required
 * (a number)", a wrong type "must be an integer (got a number with a fraction)", a value outside an enum
 * "must be one of card, wallet", one too long "must be at most 1000 characters". A value sent is never
 * repeated back. A message the schema sets is kept.
 */
export function fieldIssues(error: unknown, data: unknown): FieldIssue[] {
  const raw: RawIssue[] | undefined = Array.isArray(error) ? error : (error as { issues?: RawIssue[] }).issues;
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((issue) => {
    // A key that is a card number is not repeated back either: it is named "(a key)".
    const path = (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).map(keyAsNamed);
    // One issue names every unknown key of an object: each is a field of its own.
    if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
      return issue.keys.map((key) => ({ field: [...path, keyAsNamed(key)].join('.'), problem: 'is not a recognised field' }));
    }
    const field = path.join('.') || '(root)';
    // A record key that breaks the key's schema: its own problem, said of the key.
    if (issue.code === 'invalid_key' && issue.issues?.length) {
      const inner = issue.issues[0] as RawIssue;
      return [{ field, problem: `is not an allowed key: it ${ZOD_DEFAULT.test(inner.message) ? plainly(inner, undefined, false) : inner.message}` }];
    }
    return [{ field, problem: ZOD_DEFAULT.test(issue.message) ? plainly(issue, valueAt(data, path), path.length > 0) : issue.message }];
  });
}

/** zod's default message for `issue`, said plainly (`value`: what the data holds there). */
function plainly(issue: RawIssue, value: unknown, isField: boolean): string {
  const oneOf = allowed(issue);
  const type = issue.code === 'invalid_type' && issue.expected ? (TYPE_NAMES[issue.expected] ?? withArticle(issue.expected)) : undefined;
  const wanted = oneOf ?? type;
  if (wanted && value === undefined && isField) return `is required (${wanted})`;
  // A string outside an enum: the caller knows what it sent, and it is not repeated.
  if (oneOf && typeof value === 'string') return `must be ${oneOf}`;
  // A number past what JSON's doubles hold ("1e400") parses as Infinity, which no data copy keeps as a number.
  if (wanted && issue.received === 'Infinity') return `must be ${wanted} (got a number too large to hold)`;
  if (wanted) return `must be ${wanted} (got ${describe(value)})`;
  return sizeBound(issue) ?? issue.message;
}

/** zod's "Too big: expected string to have <=1000 characters", said as "must be at most 1000 characters". */
function sizeBound(issue: RawIssue): string | undefined {
  const big = issue.code === 'too_big';
  const limit = big ? issue.maximum : issue.code === 'too_small' ? issue.minimum : undefined;
  if (limit === undefined) return undefined;
  const n = String(limit);
  const exclusive = issue.inclusive === false;
  const than = big ? (exclusive ? 'fewer than' : 'at most') : exclusive ? 'more than' : 'at least';
  switch (issue.origin) {
    case 'string':
      return `must be ${than} ${n} character${n === '1' ? '' : 's'}`;
    case 'array':
    case 'set':
      return `must have ${than} ${n} item${n === '1' ? '' : 's'}`;
    case 'number':
    case 'int':
    case 'bigint':
      return `must be ${big ? (exclusive ? 'less than' : 'at most') : exclusive ? 'greater than' : 'at least'} ${n}`;
    default:
      return undefined;
  }
}
