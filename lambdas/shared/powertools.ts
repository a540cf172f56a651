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
import { debugEnabled } from '../../contracts/debug';
import { METRICS } from '../../contracts/resources';

export const logger = new Logger();
// DEBUG=smartpay:<function> (or smartpay:*) turns this function's logs to DEBUG, whatever its level
// (POWERTOOLS_LOG_LEVEL, or LOG_LEVEL).
if (debugEnabled(process.env.DEBUG, `smartpay:${process.env.POWERTOOLS_SERVICE_NAME ?? ''}`)) logger.setLogLevel('DEBUG');
// The namespace the construct gives this platform (POWERTOOLS_METRICS_NAMESPACE, SmartPay/<instance>): its alarms
// and dashboard read that one. A namespace passed here would win over the variable.
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS.namespace });
/** The tracer, in Lambda with tracing on; undefined elsewhere (see tracingEnabled). */
export const tracer: Tracer | undefined = tracingEnabled()
  ? // A conditional require keeps the X-Ray SDK (and its async hooks) out of processes that do not trace;
    // esbuild still bundles it for Lambda.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    new (require('@aws-lambda-powertools/tracer') as typeof TracerModule).Tracer()
  : undefined;

/**
 * One metric with dimensions of its own (a connector, an outcome), published at once beside the function's
 * default `service` dimension: Powertools' single metric.
 */
export function countBy(name: string, dimensions: Readonly<Record<string, string>>, value = 1, unit: 'Count' | 'Milliseconds' = 'Count'): void {
  const single = metrics.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  single.addMetric(name, unit, value);
}

type Json = Record<string, unknown> | null | undefined;
const text = (value: unknown) => (typeof value === 'string' && value.length <= 256 ? value : undefined);

/**
 * What correlates an invocation: the workflow execution, the payment and its key, wherever the event carries them
 * (a step's payment or envelope, an event's detail, an API path's id).
 */
export function correlation(event: unknown): { executionId?: string; paymentId?: string; idempotencyKey?: string } {
  const e = (event ?? undefined) as Json;
  const payment = e?.payment as Json;
  const detail = e?.detail as Json;
  const envelope = e?.envelope as Json;
  const path = e?.pathParameters as Json;
  const pathId = text(path?.id);
  const paymentId = text(payment?.paymentId) ?? text(e?.paymentId) ?? text(detail?.paymentId) ?? (pathId?.startsWith('pay_') ? pathId : undefined);
  const idempotencyKey = (text(payment?.idempotencyKey) ?? text(envelope?.idempotencyKey)) || undefined;
  return { ...(text(e?.executionId) ? { executionId: text(e?.executionId) } : {}), ...(paymentId ? { paymentId } : {}), ...(idempotencyKey ? { idempotencyKey } : {}) };
}

/**
 * Wraps a handler once: Lambda context, the Step Functions execution id, the payment id and its Idempotency-Key
 * in every log line; a traced subsegment with the cold-start, payment and execution annotations; metrics flushed
 * after each invocation; temporary log keys cleared. The event is never logged (it may carry card data).
 */
export function instrumented<R>(name: string, fn: (event: unknown) => Promise<R>) {
  return async (event: unknown, context?: Context): Promise<R> => {
    if (context) logger.addContext(context);
    const { executionId, paymentId, idempotencyKey } = correlation(event);
    logger.appendKeys({ ...(executionId ? { executionId } : {}), ...(paymentId ? { paymentId } : {}), ...(idempotencyKey ? { idempotencyKey } : {}) });
    const segment = tracer?.getSegment();
    const subsegment = segment?.addNewSubsegment(`## ${name}`);
    if (tracer && subsegment) {
      tracer.setSegment(subsegment);
      tracer.annotateColdStart();
      // Searchable in X-Ray: every trace of a payment by its id.
      if (paymentId) tracer.putAnnotation('paymentId', paymentId);
      if (executionId) tracer.putAnnotation('executionId', executionId);
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
