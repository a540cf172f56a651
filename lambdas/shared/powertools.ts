/**
 * Logger, Tracer and Metrics, created once and shared by every handler. Service name, log level, metrics
 * namespace and sampling come from the POWERTOOLS_* environment the construct (or the local platform) sets.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type * as TracerModule from '@aws-lambda-powertools/tracer';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { tracingEnabled } from './config';
import { METRICS } from '../../contracts/resources';

export const logger = new Logger();
export const metrics = new Metrics({ namespace: METRICS.namespace });
/** The tracer, in Lambda with tracing on; undefined elsewhere (see tracingEnabled). */
export const tracer: Tracer | undefined = tracingEnabled()
  ? // A conditional require keeps the X-Ray SDK (and its async hooks) out of processes that do not trace;
    // esbuild still bundles it for Lambda.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    new (require('@aws-lambda-powertools/tracer') as typeof TracerModule).Tracer()
  : undefined;

/**
 * Wraps a handler once: Lambda context and the Step Functions execution id in every log line, a traced
 * subsegment with the cold-start annotation, metrics flushed after each invocation, temporary log keys
 * cleared. The event is never logged (it may carry card data).
 */
export function instrumented<R>(name: string, fn: (event: unknown) => Promise<R>) {
  return async (event: unknown, context?: Context): Promise<R> => {
    if (context) logger.addContext(context);
    const executionId = (event as { executionId?: unknown } | null)?.executionId;
    if (typeof executionId === 'string') logger.appendKeys({ executionId });
    const segment = tracer?.getSegment();
    const subsegment = segment?.addNewSubsegment(`## ${name}`);
    if (tracer && subsegment) {
      tracer.setSegment(subsegment);
      tracer.annotateColdStart();
    }
    try {
      return await fn(event);
    } catch (error) {
      subsegment?.addError(error as Error);
      throw error;
    } finally {
      if (tracer && subsegment && segment) {
        subsegment.close();
        tracer.setSegment(segment);
      }
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}
