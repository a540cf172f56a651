/**
 * Logger, Tracer and Metrics, created once and shared by every handler. Service name, log level, metrics
 * namespace and sampling come from the POWERTOOLS_* environment the construct (or the local platform) sets.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS } from './contracts.js';

export const logger = new Logger();
export const tracer = new Tracer();
export const metrics = new Metrics({ namespace: METRICS.namespace });
