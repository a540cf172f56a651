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
    await expect(readTransactions(bad)).rejects.toThrow(/bad\.csv:3: label: not a 0\/1 label: "maybe"/);
    await expect(readTransactions(join(dir, 'absent.csv'))).rejects.toThrow(/absent\.csv: no such file/);
  });

  // Rows that would be misread silently are errors naming the physical line and the column.
  const H = 'tx_id,timestamp,customer_id,terminal_id,amount,label';
  it.each([
    ['a date of digits (not epoch seconds of 1973-2096)', `${H}\na,20190101,c,t,1,0\n`, /:2: timestamp: not a timestamp: "20190101" \(a number is read as epoch seconds/],
    ['a day that does not exist', `${H}\na,2019-02-30 10:00:00,c,t,1,0\n`, /:2: timestamp: not a timestamp: "2019-02-30 10:00:00" \(no such day or time\)/],
    ['an empty customer id (every such row would be one customer)', `${H}\na,2026-01-01,,t,1,0\n`, /:2: customer_id is empty/],
    ['an empty mapped terminal id', 'id,timestamp,customer_id,shop,amount\na,2026-01-01,c,,1\n', /:2: terminal_id \("shop"\) is empty/],
    ['a transaction id twice', `${H}\na,2026-01-01,c,t,1,0\na,2026-01-02,c,t,1,0\n`, /:3: tx_id "a" is also on line 2/],
    ['a column name twice', 'tx_id,timestamp,customer_id,terminal_id,amount,amount\na,2026-01-01,c,t,1,2\n', /:1: column "amount" appears twice \(columns 5 and 6\)/],
    ['a negative amount (a refund)', `${H}\na,2026-01-01,c,t,-100.00,0\n`, /:2: amount is negative \(-100\.00\)/],
    ['a country name (the features compare codes)', `${H},country\na,2026-01-01,c,t,1,0,Germany\n`, /:2: country: "Germany" must be a two-letter ISO-3166 country code/],
    ['a reserved country code', `${H},merchant_country\na,2026-01-01,c,t,1,0,UK\n`, /:2: merchant_country: "UK" is not an ISO-3166 country code .*\(GB for the United Kingdom\)/],
    ['a bad amount after a quoted newline and blank lines (its physical line)', `${H}\na,2026-01-01,"multi\nline",t,1,0\n\n\nb,2026-01-02,c,t,BAD,0\n`, /:6: amount: not a decimal amount: "BAD"/],
  ])('refuses %s', async (_name, text, message) => {
    const map = text.startsWith('id,') ? { tx_id: 'id', terminal_id: 'shop' } : undefined;
    await expect(readTransactions(file('strict.csv', text), { map })).rejects.toThrow(message);
  });

  it('refuses a canonical column mapped twice', () => {
    expect(() => parseColumnMap('tx_id=a,tx_id=b')).toThrow('--map: tx_id is mapped twice ("a" and "b")');
  });

  it('reads NaN (pandas\' missing value) as a label not known yet, and epoch seconds', async () => {
    const rows = await readTransactions(file('nan.csv', `${H}\na,2019-01-01 10:00:00,c,t,1,NaN\nb,1546300800,c,t,2,1\n`));
    expect(rows.map((r) => [r.txId, new Date(r.time).toISOString(), r.label])).toEqual([['b', '2019-01-01T00:00:00.000Z', 1], ['a', '2019-01-01T10:00:00.000Z', undefined]]);
  });
});
