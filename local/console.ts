/**
 * The operator console as the local platform serves it under `/console/` (in the cloud, CloudFront serves the same
 * files from S3: lib/console.ts): the files contracts/console.ts declares, with the security headers.
 */
import { consoleContentSecurityPolicy } from '../contracts/console';

export { consoleFile, consoleFiles } from '../contracts/console';

/** The headers every console file is served with. */
export function consoleHeaders(): Record<string, string> {
  return {
    'content-security-policy': consoleContentSecurityPolicy(),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}
