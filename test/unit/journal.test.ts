/**
 * The local journals after a crash mid-write (contracts/journal.ts): a torn last line is cut off by the journal's
 * writer when it opens it, so the next line appended is not glued to it and lost (an outside probe found a fake
 * gateway forgetting a charge that way: its refund was then refused as a charge it did not know).
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import { journalLines, repairJournal } from '../../contracts/journal';
import { readLedger, SandboxConnector } from '../../lambdas/payments/sandbox';

const dir = () => mkdtempSync(join(tmpdir(), 'journal-'));

test('cuts a torn tail back to the last complete line; a whole journal is left as it is', () => {
  const file = join(dir(), 'j.jsonl');
  writeFileSync(file, '{"a":1}\n{"b":2}\n{"c":');
  expect(repairJournal(file)).toBe(true);
  expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
  expect(repairJournal(file)).toBe(false);
  expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
  // Only a torn line: nothing is left. Missing or empty: nothing to do.
  writeFileSync(file, '{"torn":');
  expect(repairJournal(file)).toBe(true);
  expect(readFileSync(file, 'utf8')).toBe('');
  expect(repairJournal(join(dir(), 'missing.jsonl'))).toBe(false);
});

test('finds the last newline across blocks in a large journal', () => {
  const file = join(dir(), 'big.jsonl');
  const whole = `${JSON.stringify({ pad: 'x'.repeat(200_000) })}\n`;
  writeFileSync(file, whole + '{"torn":"' + 'y'.repeat(100_000));
  expect(repairJournal(file)).toBe(true);
  expect(readFileSync(file, 'utf8')).toBe(whole);
});

test('a torn line is passed over when read, and the lines around it are kept', () => {
  expect(journalLines('{"a":1}\n{"b":\n\n{"c":3}\n')).toEqual([{ a: 1 }, { c: 3 }]);
});

test("a sandbox's ledger opened after a crash left a torn line keeps the next charge (it would have been glued to the fragment)", async () => {
  const ledgerDir = dir();
  const id = 'sandbox-torn';
  appendFileSync(join(ledgerDir, `${id}.jsonl`), '{"key":"pay_torn:0","at":"2026-12-03T1');
  const sandbox = new SandboxConnector({ ...DEFAULT_CONNECTORS[0], id }, { ledgerDir });
  const charged = await sandbox.charge({ amount: 1_000, currency: 'USD', card: { number: '4242424242424242', expMonth: 12, expYear: 2030 }, idempotencyKey: 'pay_after:0' });
  // What a restarted platform reads back: the charge, by its key.
  expect(readLedger(ledgerDir, id)).toEqual([expect.objectContaining({ key: 'pay_after:0', ok: true, result: expect.objectContaining({ gatewayReference: charged.gatewayReference }) })]);
});
