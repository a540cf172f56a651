import { secretFingerprinter } from '../../lambdas/payments/fingerprint';

const key = 'k'.repeat(48);
const read = (value: string) => async () => value;

test('a fingerprint is an HMAC under the key: stable, and different under another key or for another kind', async () => {
  const fp = secretFingerprinter('arn:key', read(key));
  const a = await fp('card', '4242424242424242');
  expect(a).toMatch(/^[A-Za-z0-9_-]{27}$/);
  expect(await fp('card', '4242424242424242')).toBe(a);
  expect(await fp('card', '4242424242424241')).not.toBe(a);
  expect(await fp('stripe', '4242424242424242')).not.toBe(a);
  expect(await secretFingerprinter('arn:key', read('z'.repeat(48)))('card', '4242424242424242')).not.toBe(a);
});

test('a key too short to be one is refused, naming the secret and not its value', async () => {
  const error = (await secretFingerprinter('arn:short', read('tiny-key'))('card', '4242424242424242').catch((e: unknown) => e)) as Error;
  expect(error.message).toMatch(/arn:short is too short/);
  expect(error.message).not.toContain('tiny-key');
});
