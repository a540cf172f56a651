/**
 * The part of `@amazonpay/amazon-pay-api-sdk-nodejs` (2.3.x, which ships no types) that the Amazon Pay adapter
 * uses: the client's request signing. The SDK's own calls are not used: they never retry, and its
 * `overrideServiceUrl` turns TLS verification off for the whole process.
 */
declare module '@amazonpay/amazon-pay-api-sdk-nodejs' {
  interface AmazonPayClientConfig {
    /** The account's public key id (`SANDBOX-…`/`LIVE-…`, or a bare one with `sandbox`). */
    readonly publicKeyId: string;
    /** The account's RSA private key (PEM). */
    readonly privateKey: string | Buffer;
    /** `us`/`na`, `eu`/`uk`/`de`, or `jp`: picks the API host that is signed (`x-amz-pay-host`). */
    readonly region: string;
    /** For a public key id without its environment prefix: true for the sandbox. */
    readonly sandbox?: boolean;
    /** `AMZN-PAY-RSASSA-PSS` (the default, salt 20) or `AMZN-PAY-RSASSA-PSS-V2` (salt 32). */
    readonly algorithm?: string;
  }

  /**
   * A request to sign. The SDK prepares it in place: `payload` becomes the JSON text that was signed, and
   * `urlFragment` the whole path after the host (`v2/charges`, or `sandbox/v2/charges`, …).
   */
  export interface SignableRequest {
    method: string;
    urlFragment: string;
    payload?: unknown;
    headers?: Record<string, string>;
    queryParams?: Record<string, string>;
  }

  class AmazonPayClient {
    constructor(config: AmazonPayClientConfig);
    /** The request's headers with `x-amz-pay-date`, `x-amz-pay-host`, `x-amz-pay-region` and the `authorization` signature. */
    getSignedHeaders(request: SignableRequest): Record<string, string>;
  }

  class WebStoreClient extends AmazonPayClient {}
}
