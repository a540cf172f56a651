/**
 * One SageMaker `InvokeEndpoint` call under a strict time budget, shared by the fraud and routing endpoint
 * paths: the call is aborted when the budget runs out, and every failure is an EndpointScoreError that says
 * whether it was a timeout, an error or an unusable answer, so the caller can fall back to its embedded model.
 */
import type { InvokeEndpointCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import type { ScoredBy } from '../../contracts/api';
import { traced } from './clients';

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

/** The narrow port of the SageMaker runtime this module uses: one InvokeEndpoint (a fake in tests). */
export interface InvokeEndpointClient {
  send(input: InvokeEndpointCommandInput, options: { abortSignal: AbortSignal }): Promise<{ Body?: Uint8Array }>;
}

let runtime: Promise<InvokeEndpointClient> | undefined;

/**
 * The SageMaker runtime client, one a container, traced, without SDK retries (the budget is a few tens of
 * milliseconds, and the embedded model is the fallback). Its SDK is loaded when a stage names an endpoint
 * (preloadSageMaker at the handler's load, else the first call): most stages have none, and its load is about a
 * tenth of a second of every cold start.
 */
export function sageMakerRuntime(): InvokeEndpointClient {
  return {
    send: async (input, options) => {
      const client = await (runtime ??= loadRuntime());
      return client.send(input, options);
    },
  };
}

async function loadRuntime(): Promise<InvokeEndpointClient> {
  const { InvokeEndpointCommand, SageMakerRuntimeClient } = await import('@aws-sdk/client-sagemaker-runtime');
  const client = traced(new SageMakerRuntimeClient({ maxAttempts: 1 }));
  return { send: (input, options) => client.send(new InvokeEndpointCommand(input), options) };
}

/** Starts the SDK's load during the cold start when the environment variable `endpointNameVariable` names an endpoint. */
export function preloadSageMaker(endpointNameVariable: string): void {
  if (process.env[endpointNameVariable]) (runtime ??= loadRuntime()).catch(() => undefined);
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
  const input: InvokeEndpointCommandInput = {
    EndpointName: endpointName,
    ContentType: request.contentType,
    Accept: request.accept,
    Body: new TextEncoder().encode(request.body),
  };
  try {
    const output = await Promise.race([client.send(input, { abortSignal: controller.signal }), deadline]);
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
