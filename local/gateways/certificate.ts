/**
 * A self-signed X.509 certificate for a local fake's signing key (the fake of Amazon Pay's API signs its
 * notifications as SNS does, and serves this certificate at its SigningCertURL). DER written by hand, as little
 * as a certificate needs (version 3, SHA256withRSA, one common name, a validity, the key), so no certificate
 * library is needed; Node's X509Certificate reads it back.
 */
import { createSign, type KeyObject } from 'node:crypto';

const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
};
const sequence = (...parts: Buffer[]) => tlv(0x30, ...parts);
const integer = (value: Buffer) => tlv(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
const utcTime = (date: Date) => tlv(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`, 'ascii'));
/** sha256WithRSAEncryption, with its NULL parameters. */
const SHA256_WITH_RSA = sequence(tlv(0x06, Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b])), Buffer.from([0x05, 0x00]));
/** A Name of one commonName. */
const name = (commonName: string) =>
  sequence(tlv(0x31, sequence(tlv(0x06, Buffer.from([0x55, 0x04, 0x03])), tlv(0x0c, Buffer.from(commonName, 'utf8')))));

/** A PEM certificate for `publicKey`, self-signed with `privateKey`, valid from now for `days`. */
export function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject, commonName: string, days = 3650): string {
  const now = new Date();
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(Buffer.from([0x01, ...Array.from({ length: 8 }, () => Math.floor(Math.random() * 256))])),
    SHA256_WITH_RSA,
    name(commonName),
    sequence(utcTime(new Date(now.getTime() - 60_000)), utcTime(new Date(now.getTime() + days * 86_400_000))),
    name(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = createSign('RSA-SHA256').update(tbs).sign(privateKey);
  const der = sequence(tbs, SHA256_WITH_RSA, tlv(0x03, Buffer.from([0]), signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}
