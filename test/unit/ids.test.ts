import { newPaymentId, paymentIdRange, paymentIdTime } from '../../contracts/ids';

describe('payment ids', () => {
  it('are pay_ plus 20 Crockford base32 characters and carry their time', () => {
    const at = new Date('2026-11-26T12:34:56.789Z');
    const id = newPaymentId(at);
    expect(id).toMatch(/^pay_[0-9A-HJKMNP-TV-Z]{20}$/);
    expect(paymentIdTime(id)).toEqual(at);
  });

  it('sort by creation time, so a window is a key range', () => {
    const ids = [0, 1, 1000, 86_400_000].map((ms) => newPaymentId(new Date(Date.UTC(2026, 0, 1) + ms)));
    expect([...ids].sort()).toEqual(ids);
    const { low, high } = paymentIdRange(new Date(Date.UTC(2026, 0, 1) + 1), new Date(Date.UTC(2026, 0, 1) + 1001));
    // [t+1 ms, t+1001 ms) holds the ids made at +1 ms and +1000 ms, not those at +0 or +1 day.
    expect(ids.filter((id) => id >= low && id <= high)).toEqual([ids[1], ids[2]]);
  });
});
