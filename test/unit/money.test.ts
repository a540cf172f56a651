import { currencyExponent, formatMajor, isSupportedCurrency, percentageFee, wholeMajorUnits } from '../../contracts/money';

describe('money', () => {
  it('knows the ISO-4217 exponents', () => {
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('KWD')).toBe(3);
    expect(() => currencyExponent('XYZ')).toThrow(/unknown currency XYZ/);
    expect(isSupportedCurrency('EUR')).toBe(true);
    expect(isSupportedCurrency('usd')).toBe(false);
  });

  it('formats minor units exactly, without floats', () => {
    expect(formatMajor({ amount: 1234, currency: 'USD' })).toBe('12.34');
    expect(formatMajor({ amount: 5, currency: 'KWD' })).toBe('0.005');
    expect(formatMajor({ amount: 1234, currency: 'JPY' })).toBe('1234');
    expect(formatMajor({ amount: 99_999_999, currency: 'USD' })).toBe('999999.99');
    expect(formatMajor({ amount: -7, currency: 'EUR' })).toBe('-0.07');
  });

  it('takes whole major units by the currency exponent', () => {
    expect(wholeMajorUnits({ amount: 1999, currency: 'USD' })).toBe(19);
    expect(wholeMajorUnits({ amount: 1999, currency: 'JPY' })).toBe(1999);
    expect(wholeMajorUnits({ amount: 1999, currency: 'KWD' })).toBe(1);
  });

  it('rounds percentage fees half up to a whole minor unit', () => {
    expect(percentageFee(1000, 290, 30)).toBe(59); // 29.0 + 30
    expect(percentageFee(1999, 290, 30)).toBe(88); // 57.971 → 58, + 30
    expect(percentageFee(50, 290, 0)).toBe(1); // 1.45 → 1
    expect(percentageFee(100, 250, 0)).toBe(3); // 2.5 → 3
  });
});
