/**
 * Idempotency for POST /pay, with Powertools idempotency's DynamoDB persistence layer. The workflow spans
 * several Lambda invocations, so instead of wrapping one function with makeIdempotent it uses the same
 * persistence layer at the workflow's edges: Begin claims the key (saveInProgress), Finalize completes it
 * with the HTTP response (saveSuccess), Abort releases it (deleteRecord). The key is scoped to the merchant;
 * the payload hash covers the normalised request, so the same key with another payload is a 422.
 */
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyValidationError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConflictError, IdempotencyInProgressError } from '../../contracts/errors';
import type { PaymentRequest } from '../../contracts/api';
import type { StoredResponse } from '../../contracts/steps';

export interface IdempotencyData {
  readonly merchantId: string;
  readonly idempotencyKey: string;
  readonly request: PaymentRequest;
}

export type { StoredResponse };

export function httpResponse(status: number, body: unknown): StoredResponse {
  return { status, body: JSON.stringify(body) };
}

export type ClaimResult = { readonly kind: 'claimed' } | { readonly kind: 'replay'; readonly response: StoredResponse };

/** The port the payment steps use. */
export interface IdempotencyPort {
  /** Claims the key for this request, or returns the stored response; throws on conflict or while in flight. */
  claim(data: IdempotencyData): Promise<ClaimResult>;
  complete(data: IdempotencyData, response: StoredResponse): Promise<void>;
  release(data: IdempotencyData): Promise<void>;
}

/** How long a claimed key counts as in flight: longer than the payment workflow's 25 s timeout. */
export const IN_FLIGHT_MS = 30_000;
/** How long a completed response is replayed. */
export const REPLAY_SECONDS = 24 * 60 * 60;

export class PowertoolsIdempotency implements IdempotencyPort {
  private readonly layer: DynamoDBPersistenceLayer;

  constructor(client: DynamoDBClient, tableName: string) {
    this.layer = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });
    this.layer.configure({
      functionName: 'smartpay-pay',
      config: new IdempotencyConfig({
        eventKeyJmesPath: '[merchantId, idempotencyKey]',
        payloadValidationJmesPath: 'request',
        expiresAfterSeconds: REPLAY_SECONDS,
        throwOnNoIdempotencyKey: true,
      }),
    });
  }

  async claim(data: IdempotencyData): Promise<ClaimResult> {
    try {
      await this.layer.saveInProgress(data as never, IN_FLIGHT_MS);
      return { kind: 'claimed' };
    } catch (error) {
      if (!(error instanceof IdempotencyItemAlreadyExistsError)) throw error;
      try {
        const record = error.existingRecord
          ? this.layer.processExistingRecord(error.existingRecord, data as never)
          : await this.layer.getRecord(data as never);
        if (record.getStatus() === IdempotencyRecordStatus.COMPLETED) {
          return { kind: 'replay', response: record.getResponse() as unknown as StoredResponse };
        }
        throw new IdempotencyInProgressError(
          `a request with Idempotency-Key "${data.idempotencyKey}" is still being processed; retry after it completes`,
        );
      } catch (inner) {
        if (inner instanceof IdempotencyValidationError) {
          throw new IdempotencyConflictError(
            `Idempotency-Key "${data.idempotencyKey}" was already used with a different request body; use a new key for a new payment`,
          );
        }
        throw inner;
      }
    }
  }

  async complete(data: IdempotencyData, response: StoredResponse): Promise<void> {
    await this.layer.saveSuccess(data as never, response as never);
  }

  async release(data: IdempotencyData): Promise<void> {
    await this.layer.deleteRecord(data as never);
  }
}
