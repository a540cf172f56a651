/**
 * What a request body may be before any schema sees it: JSON, within size, depth and key-count limits, with no
 * prototype keys. The edge checks the raw text before parsing it (the handlers' `parseApiBody`, the local
 * server) and the parsed value where the body arrives already parsed (the payment workflow's Begin step), so
 * hostile JSON gets a 400 naming the problem, never a stack overflow or a silently dropped key.
 */
import type { FieldIssue } from './api';

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


/**
 * The first structural problem of a JSON text (size, depth, entries), found by scanning it without parsing;
 * undefined when it is within the limits. The text may still not be valid JSON: the parser says so.
 */
export function jsonTextProblem(text: string): FieldIssue | undefined {
  if (text.length * 3 > JSON_LIMITS.maxBytes && new TextEncoder().encode(text).length > JSON_LIMITS.maxBytes) {
    return { field: '(body)', problem: `must be at most ${JSON_LIMITS.maxBytes} bytes` };
  }
  const entries: number[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      entries.push(0);
      if (entries.length > JSON_LIMITS.maxDepth) return { field: '(body)', problem: `must nest at most ${JSON_LIMITS.maxDepth} levels deep` };
    } else if (c === '}' || c === ']') entries.pop();
    else if (c === ',' && entries.length) {
      entries[entries.length - 1] += 1;
      if ((entries[entries.length - 1] as number) >= JSON_LIMITS.maxEntries) {
        return { field: '(body)', problem: `must have at most ${JSON_LIMITS.maxEntries} entries in one object or array` };
      }
    }
  }
  return undefined;
}

/** The first problem of a parsed value: too deep, too many entries, or a prototype key (named by its path). */
export function jsonValueProblem(value: unknown, path = ''): FieldIssue | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path, depth: 0 }];
  while (stack.length) {
    const { value: v, path: at, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= JSON_LIMITS.maxDepth) return { field: at || '(body)', problem: `must nest at most ${JSON_LIMITS.maxDepth} levels deep` };
    const keys = Object.keys(v);
    if (keys.length > JSON_LIMITS.maxEntries) return { field: at || '(body)', problem: `must have at most ${JSON_LIMITS.maxEntries} entries` };
    for (const key of keys) {
      const field = at ? `${at}.${key}` : key;
      if (PROTOTYPE_KEYS.includes(key)) return { field, problem: 'is not an allowed key' };
      stack.push({ value: (v as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Whether a Content-Type header value is JSON (`application/json`, with or without parameters). */
export function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^application\/json\s*(;|$)/i.test(value.trim());
}
