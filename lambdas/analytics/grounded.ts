/**
 * Whether a text is grounded in another: every number it writes, and every payment id it cites, is one the other
 * writes too, and it keeps the other's figures (its numbers outside dates). A model's phrasing of an answer is kept
 * only when it is grounded in the template's answer, whose numbers all come from the executed results (compose.ts).
 */

const PAYMENT_ID = /pay_[0-9A-Z]{20}/g;

/** The numbers a text writes ("1,234.50", "12.50", "3"), outside payment ids; thousands separators dropped. */
export function numbersOf(text: string): string[] {
  return [...text.replace(PAYMENT_ID, ' ').matchAll(/\d[\d,]*(?:\.\d+)?/g)].map((m) => m[0].replace(/,(?=\d{3}\b)/g, '').replace(/,$/, ''));
}

export function paymentIdsOf(text: string): string[] {
  return [...text.matchAll(PAYMENT_ID)].map((m) => m[0]);
}

/** A text's figures: its numbers outside payment ids and ISO dates and date-times. */
export function figuresOf(text: string): string[] {
  return numbersOf(text.replace(/\d{4}-\d{2}-\d{2}(?:T[\d:.]+Z)?/g, ' '));
}

export function isGrounded(text: string, source: string): boolean {
  const numbers = new Set(numbersOf(source));
  const written = new Set(numbersOf(text));
  const ids = new Set(paymentIdsOf(source));
  return [...written].every((n) => numbers.has(n)) && figuresOf(source).every((n) => written.has(n)) && paymentIdsOf(text).every((id) => ids.has(id));
}
