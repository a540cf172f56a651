/**
 * Turns schema validation issues into the `{field, problem}` pairs of a 400's `details.issues` (and of any
 * other tool's messages about bad input), worded for the caller rather than in the validator's terms.
 */
import type { FieldIssue } from './errors.js';

type RawIssue = {
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
  message: string;
  code?: string;
  keys?: string[];
  /** invalid_type: the type wanted. */
  expected?: string;
  /** invalid_value: the values allowed. */
  values?: unknown[];
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

/** What a field should hold, for its "is required" or "must be" problem. */
function wanted(issue: RawIssue): string {
  if (issue.code === 'invalid_value' && issue.values?.length) return `one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.expected) return withArticle(issue.expected);
  return issue.message;
}

/**
 * Field-level problems from a validation error (Standard Schema issues, as the Powertools parser's cause, or a
 * ZodError), for the data that failed: one per field, with its dotted path. A missing field "is required
 * (a number)", a field of the wrong type "must be a number (got a string)", one too long "must be at most
 * 1000 characters" (these two unless the schema words them itself), each unknown field "is not a recognised
 * field"; every other problem keeps the schema's message.
 */
export function fieldIssues(error: unknown, data: unknown): FieldIssue[] {
  const raw: RawIssue[] | undefined = Array.isArray(error) ? error : (error as { issues?: RawIssue[] }).issues;
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((issue) => {
    const path = (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p));
    // One issue names every unknown key of an object: each is a field of its own.
    if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
      return issue.keys.map((key) => ({ field: [...path, key].join('.'), problem: 'is not a recognised field' }));
    }
    const field = path.join('.') || '(root)';
    const value = valueAt(data, path);
    if (path.length > 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value') && value === undefined) {
      return [{ field, problem: `is required (${wanted(issue)})` }];
    }
    // Only zod's own wording is replaced: a message the schema sets (`.int('must be an integer ...')`) stays.
    if (issue.code === 'invalid_type' && issue.expected && issue.message.startsWith('Invalid input')) {
      const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : withArticle(typeof value);
      return [{ field, problem: `must be ${wanted(issue)} (got ${got})` }];
    }
    const bound = sizeBound(issue);
    if (bound) return [{ field, problem: bound }];
    return [{ field, problem: issue.message }];
  });
}

/** zod's default "Too big: expected string to have <=1000 characters", said as "must be at most 1000 characters". */
function sizeBound(issue: RawIssue): string | undefined {
  const big = issue.code === 'too_big' && issue.message.startsWith('Too big');
  const small = issue.code === 'too_small' && issue.message.startsWith('Too small');
  const limit = big ? issue.maximum : small ? issue.minimum : undefined;
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
