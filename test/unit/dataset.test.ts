import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseColumnMap, parseTimestamp, readTransactions, toMinorUnits } from '../../ml/dataset';

const dir = mkdtempSync(join(tmpdir(), 'smartpay-dataset-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('transactions CSV', () => {
  it('converts decimal major units to minor units exactly, rounding half up', () => {
    expect(toMinorUnits('57.16', 'USD')).toBe(5716);
    expect(toMinorUnits('57.1', 'USD')).toBe(5710);
    expect(toMinorUnits('57', 'USD')).toBe(5700);
    expect(toMinorUnits('.5', 'USD')).toBe(50);
    expect(toMinorUnits('0.285', 'USD')).toBe(29);
    expect(toMinorUnits('12.300000000001', 'USD')).toBe(1230);
    expect(toMinorUnits('1234', 'JPY')).toBe(1234);
    expect(toMinorUnits('1.2345', 'KWD')).toBe(1235);
    expect(() => toMinorUnits('1,000', 'USD')).toThrow(/not a decimal amount/);
    expect(() => toMinorUnits('', 'USD')).toThrow(/not a decimal amount/);
  });

  it('reads ISO-8601, zone-less UTC and epoch-second timestamps', () => {
    const t = Date.UTC(2026, 0, 2, 3, 4, 5);
    expect(parseTimestamp('2026-01-02T03:04:05Z')).toBe(t);
    expect(parseTimestamp('2026-01-02 03:04:05')).toBe(t);
    expect(parseTimestamp('2026-01-02T05:04:05+02:00')).toBe(t);
    expect(parseTimestamp(String(t / 1000))).toBe(t);
    expect(parseTimestamp(String(t))).toBe(t);
    expect(() => parseTimestamp('yesterday')).toThrow(/not a timestamp/);
  });

  it('maps other people’s columns and names unknown canonical ones', () => {
    expect(parseColumnMap('tx_id=TRANSACTION_ID, amount=TX_AMOUNT')).toEqual({ tx_id: 'TRANSACTION_ID', amount: 'TX_AMOUNT' });
    expect(() => parseColumnMap('amout=X')).toThrow(/unknown column "amout"/);
    expect(() => parseColumnMap('amount')).toThrow(/canonical=COLUMN/);
  });

  it('reads a mapped file, sorted by time then id, with optional columns absent', async () => {
    const path = file(
      'handbook.csv',
      'TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD\n' +
        '2,2026-01-01 10:00:00,7,3,12.5,1\n1,2026-01-01 10:00:00,7,4,3,0\n0,2026-01-01 09:00:00,8,3,100.99,0\n',
    );
    const rows = await readTransactions(path, {
      map: parseColumnMap('tx_id=TRANSACTION_ID,timestamp=TX_DATETIME,customer_id=CUSTOMER_ID,terminal_id=TERMINAL_ID,amount=TX_AMOUNT,label=TX_FRAUD'),
      currency: 'EUR',
      requireLabels: true,
    });
    expect(rows.map((r) => [r.txId, r.amountMinor, r.currency, r.label])).toEqual([
      ['0', 10099, 'EUR', 0],
      ['1', 300, 'EUR', 0],
      ['2', 1250, 'EUR', 1],
    ]);
    expect(rows[0].deviceId).toBeUndefined();
  });

  it('reads an empty label as not known yet, even when labels are required', async () => {
    const tail = file('tail.csv', 'tx_id,timestamp,customer_id,terminal_id,amount,label\na,2026-01-01,c,t,1,0\nb,2026-01-02,c,t,1,\n');
    const rows = await readTransactions(tail, { requireLabels: true });
    expect(rows.map((r) => [r.txId, r.label])).toEqual([
      ['a', 0],
      ['b', undefined],
    ]);
  });

  it('names the missing column, the file and the bad line', async () => {
    const noLabel = file('nolabel.csv', 'tx_id,timestamp,customer_id,terminal_id,amount\na,2026-01-01,c,t,1\n');
    await expect(readTransactions(noLabel, { requireLabels: true })).rejects.toThrow(/nolabel\.csv: missing column "label"/);
    const bad = file('bad.csv', 'tx_id,timestamp,customer_id,terminal_id,amount,label\na,2026-01-01,c,t,1,0\nb,2026-01-02,c,t,1,maybe\n');
    await expect(readTransactions(bad)).rejects.toThrow(/bad\.csv:3: not a 0\/1 label: "maybe"/);
    await expect(readTransactions(join(dir, 'absent.csv'))).rejects.toThrow(/absent\.csv: no such file/);
  });
});
