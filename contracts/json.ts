/**
 * What a request body may be before any schema sees it: JSON, within size, depth and key-count limits, with no
 * prototype keys. The edge checks the raw text before parsing it (the handlers' `parseApiBody`, the payment
 * workflow's Begin and ScoreFraud steps on the envelope's `bodyText`), then the parsed value, so hostile JSON
 * gets a 400 naming the problem, never a stack overflow or a silently dropped key.
 */
import type { FieldIssue } from './api';
import { keyAsNamed as named } from './methods';

export const JSON_LIMITS = {
  /** Bytes of a request body (API Gateway's own limit is 10 MB; no SmartPay body needs more than a few KB). */
  maxBytes: 1024 * 1024,
  /** Nesting of objects and arrays. */
  maxDepth: 32,
  /** Keys and array items in one object or array. */
  maxEntries: 1000,
} as const;

/** Keys that would reach an object's prototype (or shadow its constructor) in JavaScript. */
export const PROTOTYPE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];


/** A body over JSON_LIMITS.maxBytes: the platform's 413 (payload_too_large), in the cloud as locally. */
export const BODY_TOO_LARGE: FieldIssue = { field: '(body)', problem: `must be at most ${JSON_LIMITS.maxBytes} bytes` };

/** BODY_TOO_LARGE when a body's text is over JSON_LIMITS.maxBytes in UTF-8, else undefined. */
export function bodySizeProblem(text: string): FieldIssue | undefined {
  return text.length * 3 > JSON_LIMITS.maxBytes && new TextEncoder().encode(text).length > JSON_LIMITS.maxBytes ? BODY_TOO_LARGE : undefined;
}

/**
 * The first structural problem of a JSON text (depth, entries, a key twice in one object), or a number it cannot mean exactly (past
 * what a double holds, a whole number past 2^53, a fraction a double drops: `1e400`, `9007199254740993`,
 * `1999.0000000000001` would parse as Infinity, ...992 and 1999), found by scanning it without parsing; undefined
 * when it is within the limits. The text may still not be valid JSON: the parser says so.
 */
export function jsonTextProblem(text: string): FieldIssue | undefined {
  // Each open object or array: its entries so far, and an object's keys and current key (a field is their path).
  const frames: Frame[] = [];
  let stringStart = -1;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (stringStart >= 0) {
      if (c === '\\') i += 1;
      else if (c === '"') {
        const frame = frames[frames.length - 1];
        if (frame?.object && /^\s*:/.test(text.slice(i + 1, i + 64))) {
          try {
            frame.key = JSON.parse(text.slice(stringStart, i + 1)) as string;
          } catch {
            frame.key = '?';
          }
          // A key twice in one object: parsers keep one of them (JSON.parse the last, others the first), so what the
          // platform reads could differ from what something in front of it read.
          if (frame.keys?.has(frame.key)) return { field: pathOf(frames), problem: 'appears more than once in its object: send each field once' };
          (frame.keys ??= new Set()).add(frame.key);
        }
        stringStart = -1;
      }
      continue;
    }
    if (c === '"') stringStart = i;
    else if (c === '{' || c === '[') {
      frames.push({ entries: 0, object: c === '{' });
      if (frames.length > JSON_LIMITS.maxDepth) return { field: '(body)', problem: `must nest at most ${JSON_LIMITS.maxDepth} levels deep` };
    } else if (c === '}' || c === ']') frames.pop();
    else if (c === ',' && frames.length) {
      const frame = frames[frames.length - 1]!;
      frame.entries += 1;
      if (frame.entries >= JSON_LIMITS.maxEntries) {
        return { field: '(body)', problem: `must have at most ${JSON_LIMITS.maxEntries} entries in one object or array` };
      }
    } else if (c === '-' || (c! >= '0' && c! <= '9')) {
      const literal = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400))?.[0];
      if (!literal) continue;
      const problem = numberProblem(literal);
      if (problem) return { field: pathOf(frames), problem };
      i += literal.length - 1;
    }
  }
  return undefined;
}

interface Frame {
  entries: number;
  readonly object: boolean;
  key?: string;
  keys?: Set<string>;
}

/** The field the scan is in: its objects' current keys (a key that holds a card number named, not echoed) and array indexes. */
function pathOf(frames: readonly Frame[]): string {
  return frames.map((f) => (f.object ? f.key && named(f.key) : String(f.entries))).filter((k) => k !== undefined).join('.') || '(body)';
}

/** Why a JSON number literal does not mean what it says as a double, or undefined. */
function numberProblem(literal: string): string | undefined {
  const value = Number(literal);
  if (!Number.isFinite(value)) return 'is a number too large to hold';
  const plain = /^-?(\d+)(?:\.(\d+))?$/.exec(literal);
  if (!plain) return undefined;
  if (plain[2] === undefined && !Number.isSafeInteger(value)) return `is a whole number beyond ${Number.MAX_SAFE_INTEGER}, which a JSON number cannot hold exactly`;
  if (plain[2] !== undefined && /[1-9]/.test(plain[2]) && Number.isInteger(value)) return 'has more decimals than a JSON number holds (it would be read as a whole number)';
  return undefined;
}

/** A UTF-16 surrogate without its pair: JSON's `\\udfff` escape makes one, and no UTF-8 (a gateway's form encoding, DynamoDB) can carry it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string is not well-formed Unicode (a lone surrogate, at its character), or undefined. */
export function unicodeProblem(text: string): string | undefined {
  const found = LONE_SURROGATE.exec(text);
  return found ? `must be well-formed Unicode (a lone surrogate \\u${found[0].charCodeAt(0).toString(16)} at character ${found.index + 1})` : undefined;
}

/**
 * The first problem of a parsed value: too deep, too many entries, a prototype key, or a string (key or value)
 * that is not well-formed Unicode, named by its path.
 */
export function jsonValueProblem(value: unknown, path = ''): FieldIssue | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path, depth: 0 }];
  while (stack.length) {
    const { value: v, path: at, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = unicodeProblem(v);
      if (problem) return { field: at || '(body)', problem };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= JSON_LIMITS.maxDepth) return { field: at || '(body)', problem: `must nest at most ${JSON_LIMITS.maxDepth} levels deep` };
    const keys = Object.keys(v);
    if (keys.length > JSON_LIMITS.maxEntries) return { field: at || '(body)', problem: `must have at most ${JSON_LIMITS.maxEntries} entries` };
    for (const key of keys) {
      const field = at ? `${at}.${named(key)}` : named(key);
      if (PROTOTYPE_KEYS.includes(key)) return { field, problem: 'is not an allowed key' };
      const keyProblem = unicodeProblem(key);
      if (keyProblem) return { field: at || '(body)', problem: `has a key that ${keyProblem}` };
      stack.push({ value: (v as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return undefined;
}

/** The 415's message for a body that is not JSON (API Gateway's gateway response says the same). */
export const NOT_JSON = 'the request body must be JSON: send Content-Type: application/json';

/** Whether a Content-Type header value is JSON (`application/json`, with or without parameters). */
export function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^application\/json\s*(;|$)/i.test(value.trim());
}

/**
 * Why a body's headers say it is not plain UTF-8 JSON (the 415's message), or undefined: a Content-Type other
 * than application/json, a charset other than UTF-8 (the body would be misread), or a Content-Encoding (a
 * compressed body read as text).
 */
export function bodyMediaProblem(contentType: string | undefined, contentEncoding: string | undefined): string | undefined {
  if (!isJsonContentType(contentType)) return NOT_JSON;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType!)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) return `the request body must be UTF-8 JSON, not ${charset}: send Content-Type: application/json (or ; charset=utf-8)`;
  if (contentEncoding !== undefined && contentEncoding.trim() !== '' && !/^identity$/i.test(contentEncoding.trim())) {
    return `a Content-Encoding (${contentEncoding.trim()}) is not accepted: send the JSON body uncompressed`;
  }
  return undefined;
}
