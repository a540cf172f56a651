// Display formatting: money from integer minor units with the currency's own exponent, dates, percentages.
const formats = new Map();

function moneyFormat(currency) {
  if (!formats.has(currency)) {
    try {
      formats.set(currency, new Intl.NumberFormat('en', { style: 'currency', currency }));
    } catch {
      formats.set(currency, undefined);
    }
  }
  return formats.get(currency);
}

/** 1999 USD → "$19.99"; 500 JPY → "¥500" (the exponent is the currency's). */
export function money(amount, currency) {
  const format = moneyFormat(currency);
  if (!format) return `${amount} ${currency} (minor units)`;
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(amount / 10 ** digits);
}

export function dateTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return `${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 19)} UTC`;
}

export function percent(value) {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

export function score(value) {
  return typeof value === 'number' ? value.toFixed(3) : '—';
}
