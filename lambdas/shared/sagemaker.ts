/**
 * One SageMaker `InvokeEndpoint` call under a strict time budget, shared by the fraud and routing endpoint
 * paths: the call is aborted when the budget runs out, and every failure is an EndpointScoreError that says
 * whether it was a timeout, an error or an unusable answer, so the caller can fall back to its embedded model.
 */
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import type { ScoredBy } from '../../contracts/api';

/** Which model produced a score: the endpoint, or the embedded one (none configured, or a fallback). */
export type { ScoredBy };

/** Why the endpoint's answer was not used. */
export type EndpointFailure = 'timeout' | 'error' | 'invalid-response';

export class EndpointScoreError extends Error {
  constructor(
    readonly kind: EndpointFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EndpointScoreError';
  }
}

/** The narrow port of the SageMaker runtime client this module uses (a fake in tests). */
export interface InvokeEndpointClient {
  send(command: InvokeEndpointCommand, options: { abortSignal: AbortSignal }): Promise<{ Body?: Uint8Array }>;
}

/** Invokes the endpoint with `body`; resolves with the answer's bytes or rejects with an EndpointScoreError. */
export async function invokeWithBudget(
  client: InvokeEndpointClient,
  endpointName: string,
  request: { readonly contentType: string; readonly accept: string; readonly body: string },
  timeoutMs: number,
): Promise<Uint8Array | undefined> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // The race also covers a client that ignores the abort signal: the budget holds either way.
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new EndpointScoreError('timeout', `no answer from ${endpointName} within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const command = new InvokeEndpointCommand({
    EndpointName: endpointName,
    ContentType: request.contentType,
    Accept: request.accept,
    Body: new TextEncoder().encode(request.body),
  });
  try {
    const output = await Promise.race([client.send(command, { abortSignal: controller.signal }), deadline]);
    return output.Body;
  } catch (error) {
    if (error instanceof EndpointScoreError) throw error;
    if (controller.signal.aborted) {
      throw new EndpointScoreError('timeout', `no answer from ${endpointName} within ${timeoutMs} ms`, { cause: error });
    }
    throw new EndpointScoreError('error', `${endpointName}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
    deadline.catch(() => undefined);
  }
}
