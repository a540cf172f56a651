/**
 * The local bus's journal: an event the bus accepted is delivered again after a crash until its rule's
 * target has finished with it (as EventBridge would not lose it), and the journal does not grow without end.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalBus, type BusEvent } from '../../local/bus';

const pattern = { source: ['smartpay.payments'], 'detail-type': ['PaymentSucceeded'] };
const entry = (paymentId: string) => ({ Source: 'smartpay.payments', DetailType: 'PaymentSucceeded', Detail: JSON.stringify({ paymentId }), EventBusName: 'b' });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bus-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('an event whose target did not finish is delivered again at the next start, once', async () => {
  const journal = join(dir, 'events.jsonl');
  const first = createLocalBus('b', { journal });
  first.addRule('to-reward', pattern, () => Promise.reject(new Error('the process died mid-delivery')));
  const [{ EventId }] = first.putEvents([entry('pay_1')]).Entries;
  await first.idle();

  const seen: BusEvent[] = [];
  const second = createLocalBus('b', { journal });
  second.addRule('to-reward', pattern, (event) => {
    seen.push(event);
  });
  expect(second.redeliver()).toBe(1);
  await second.idle();
  expect(seen.map((e) => [e.id, (e.detail as { paymentId: string }).paymentId])).toEqual([[EventId, 'pay_1']]);

  const third = createLocalBus('b', { journal });
  third.addRule('to-reward', pattern, () => undefined);
  expect(third.redeliver()).toBe(0);
});

test('the journal is compacted to the events still open', async () => {
  const journal = join(dir, 'events.jsonl');
  const bus = createLocalBus('b', { journal, compactAfterLines: 4 });
  let fail = false;
  bus.addRule('to-reward', pattern, () => (fail ? Promise.reject(new Error('down')) : undefined));
  for (let i = 0; i < 10; i++) bus.putEvents([entry(`pay_${i}`)]);
  await bus.idle();
  fail = true;
  bus.putEvents([entry('pay_open')]);
  await bus.idle();
  for (let i = 10; i < 13; i++) {
    fail = false;
    bus.putEvents([entry(`pay_${i}`)]);
    await bus.idle();
  }
  const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean);
  // 14 events and 13 acknowledgements were written; compaction keeps the open one and what came after it.
  expect(lines.length).toBeLessThan(8);
  expect(lines.some((l) => l.includes('pay_open'))).toBe(true);
  const next = createLocalBus('b', { journal });
  const seen: string[] = [];
  next.addRule('to-reward', pattern, (event) => {
    seen.push((event.detail as { paymentId: string }).paymentId);
  });
  next.redeliver();
  await next.idle();
  expect(seen).toEqual(['pay_open']);
});
