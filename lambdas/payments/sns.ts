/**
 * Amazon SNS message signatures, as Amazon Pay's Instant Payment Notifications carry them: the envelope's
 * canonical string (its fields in SNS's order, `Name\nvalue\n`) verified against the signing certificate at
 * `SigningCertURL` (SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2). The certificate is fetched only
 * from a trusted URL (SNS's own hosts over HTTPS, or, locally, the fake's origin) and kept per URL.
 */
import { createVerify } from 'node:crypto';
import { TransientError, WebhookSignatureError } from '../../contracts/errors';

/** An SNS message envelope (the fields a notification's signature covers, and the signature's own). */
export interface SnsEnvelope {
  readonly Type: string;
  readonly MessageId: string;
  readonly TopicArn: string;
  readonly Subject?: string;
  readonly Message: string;
  readonly Timestamp: string;
  readonly SignatureVersion: string;
  readonly Signature: string;
  readonly SigningCertURL: string;
  readonly SubscribeURL?: string;
  readonly Token?: string;
}

/** SNS's signing certificates are served from its regional hosts only. */
const SNS_CERT_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** The string SNS signs: each field present, in this order, as `Name\nvalue\n`. */
function canonical(envelope: SnsEnvelope): string {
  const fields =
    envelope.Type === 'Notification'
      ? (['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const)
      : (['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const);
  return fields
    .filter((name) => envelope[name] !== undefined)
    .map((name) => `${name}\n${envelope[name]}\n`)
    .join('');
}

export interface SnsVerifier {
  /** The envelope of a raw body whose signature verifies; WebhookSignatureError otherwise (a 400, nothing read). */
  verify(rawBody: string): Promise<SnsEnvelope>;
}

/**
 * A verifier that fetches certificates with `fetchText` from SNS's hosts, or from `localOrigin` (the local fake of
 * the gateway, never set in the cloud).
 */
export function snsVerifier(options: { readonly localOrigin?: string; readonly fetchText?: (url: string) => Promise<string> } = {}): SnsVerifier {
  const certificates = new Map<string, Promise<string>>();
  const fetchText =
    options.fetchText ??
    (async (url: string) => {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      return response.text();
    });
  const trusted = (url: URL): boolean =>
    (url.protocol === 'https:' && SNS_CERT_HOST.test(url.hostname) && url.pathname.endsWith('.pem')) ||
    (options.localOrigin !== undefined && url.origin === new URL(options.localOrigin).origin);
  return {
    async verify(rawBody) {
      let envelope: SnsEnvelope;
      try {
        envelope = JSON.parse(rawBody) as SnsEnvelope;
      } catch {
        throw new WebhookSignatureError('the notification is not an SNS message (JSON)');
      }
      for (const field of ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'] as const) {
        if (typeof envelope?.[field] !== 'string') throw new WebhookSignatureError(`the notification has no ${field}`);
      }
      if (envelope.SignatureVersion !== '1' && envelope.SignatureVersion !== '2') throw new WebhookSignatureError(`SignatureVersion ${envelope.SignatureVersion} is not SNS's 1 or 2`);
      let url: URL;
      try {
        url = new URL(envelope.SigningCertURL);
      } catch {
        throw new WebhookSignatureError('SigningCertURL is not a URL');
      }
      if (!trusted(url)) throw new WebhookSignatureError(`SigningCertURL ${url.origin} is not an SNS certificate host`);
      let certificate = certificates.get(url.href);
      if (!certificate) {
        certificate = fetchText(url.href);
        certificates.set(url.href, certificate);
        // A failed fetch is not kept: the next notification fetches again.
        certificate.catch(() => certificates.delete(url.href));
      }
      let pem: string;
      try {
        pem = await certificate;
      } catch (error) {
        // Not the sender's fault: a 503, and SNS sends the notification again.
        throw new TransientError(`the SNS signing certificate could not be fetched (${(error as Error).message})`);
      }
      let valid = false;
      try {
        valid = createVerify(envelope.SignatureVersion === '2' ? 'RSA-SHA256' : 'RSA-SHA1').update(canonical(envelope)).verify(pem, envelope.Signature, 'base64');
      } catch {
        valid = false;
      }
      if (!valid) throw new WebhookSignatureError('the notification signature does not verify with its SNS certificate');
      return envelope;
    },
  };
}
