/**
 * Secrets by ARN, through Powertools' parameters utility (cached for five minutes a function instance): Secrets
 * Manager in the cloud, the local platform's GetSecretValue endpoint locally (clients.ts). A secret's value is
 * never logged, and an error names the secret's ARN only.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { secretsManagerClient } from './clients';

/** How long a secret's value is reused, in seconds (a rotated secret is picked up within it). */
export const SECRET_MAX_AGE_S = 300;

let provider: SecretsProvider | undefined;

/** The secret's string value; throws naming the ARN when it has none. */
export async function secretString(arn: string): Promise<string> {
  provider ??= new SecretsProvider({ awsSdkV3Client: secretsManagerClient() });
  const value = await provider.get(arn, { maxAge: SECRET_MAX_AGE_S });
  if (typeof value !== 'string' || value === '') throw new Error(`secret ${arn} has no string value (SecretString)`);
  return value;
}
