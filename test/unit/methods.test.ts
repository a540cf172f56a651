/** Card brands from the real IIN ranges (one detector for the stored brand and routing's network). */
import { cardBrand, cardNetwork, containsCardNumber, keyAsNamed, networkOf, passesLuhn } from '../../contracts/methods';
import { methodSummary } from '../../lambdas/payments/model';

describe('cardBrand', () => {
  test.each([
    ['4242424242424242', 'visa'],
    ['4000056655665556', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['5105105105105100', 'mastercard'],
    // The 2-series: 2221 to 2720 is Mastercard, the edges included.
    ['2221000000000009', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['2720990000000007', 'mastercard'],
    ['378282246310005', 'amex'],
    ['371449635398431', 'amex'],
    ['6011111111111117', 'discover'],
    ['6445644564456445', 'discover'],
    ['6500000000000002', 'discover'],
    ['6221260000000000', 'discover'],
    ['3530111333300000', 'jcb'],
    ['3589000000000000', 'jcb'],
    ['30569309025904', 'diners'],
    ['36227206271667', 'diners'],
    ['6200000000000005', 'unionpay'],
  ])('%s is %s', (number, brand) => {
    expect(cardBrand(number)).toBe(brand);
  });

  test.each([
    // Just outside Mastercard's 2-series, and 56–59 (Maestro and others, not Mastercard credit).
    ['2220990000000000', 'unknown'],
    ['2721000000000000', 'unknown'],
    ['2200000000000000', 'unknown'],
    ['5600000000000000', 'unknown'],
    // Outside JCB's 3528–3589 and Discover's 644–649.
    ['3527000000000000', 'unknown'],
    ['6430000000000000', 'unknown'],
    ['9999999999999999', 'unknown'],
  ])('%s is not a brand it does not belong to (%s)', (number, brand) => {
    expect(cardBrand(number)).toBe(brand);
  });

  test('the network is the brand for the big three, other for the rest', () => {
    expect(cardNetwork('2223003122003222')).toBe('mastercard');
    expect(cardNetwork('2721000000000000')).toBe('other');
    expect(cardNetwork('6011111111111117')).toBe('other');
    expect(networkOf('jcb')).toBe('other');
    expect(networkOf('amex')).toBe('amex');
  });

  test('the stored brand and routing network come from the same detector', () => {
    const summary = methodSummary({ amount: 1, currency: 'USD', customerId: 'c', paymentMethod: { type: 'card', number: '2720990000000007', expMonth: 1, expYear: 2030 } });
    expect(summary).toEqual({ card: { brand: 'mastercard', last4: '0007', expMonth: 1, expYear: 2030 } });
  });

  test('Luhn', () => {
    expect(passesLuhn('2223003122003222')).toBe(true);
    expect(passesLuhn('2223003122003223')).toBe(false);
  });
});

describe('containsCardNumber', () => {
  it.each([
    'card 4242424242424242', '4242 4242 4242 4242', 'invoice 5555-5555-5555-4444', 'card 4242.4242.4242.4242', '4242,4242,4242,4242', '4242_4242_4242_4242',
    '4242\u200b4242\u200b4242\u200b4242', '４２４２４２４２４２４２４２４２', '٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢',
    // Beside other digits: the card number's own groups are tested.
    'ref 7 4242 4242 4242 4242', '2024-01-05 4242 4242 4242 4242', '4242424242424242 1234', 'v1.4242.4242.4242.4242',
  ])('finds %s', (text) => {
    expect(containsCardNumber(text)).toBe(true);
  });
  it.each([
    'order 2026-12-03 12:00', 'tracking 1Z999AA10123456784', 'ref 1234567890123 (no card range)', '+1 415 555 0100 ext 4242', '12345678901234567890123456',
    'amount 1,234,567.89 USD', 'phone +44 20 7946 0958', '4242424242424241 (fails Luhn)',
  ])('leaves %s alone', (text) => {
    expect(containsCardNumber(text)).toBe(false);
  });
  it('names a key holding one "(a key)"', () => {
    expect([keyAsNamed('4242-4242-4242-4242'), keyAsNamed('order')]).toEqual(['(a key)', 'order']);
  });
});
