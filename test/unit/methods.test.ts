/** Card brands from the real IIN ranges (one detector for the stored brand and routing's network). */
import { cardBrand, cardNetwork, networkOf, passesLuhn } from '../../contracts/methods';
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
