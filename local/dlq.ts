/**
 * The local dead-letter queue (the reward workflow's `sqs:sendMessage` target): messages are appended as
 * JSON lines to a file under the data directory, or kept in memory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { journalLines, repairJournal } from '../contracts/journal';

export interface DlqMessage {
  readonly messageId: string;
  readonly queueUrl: string;
  /** The message body as sent (a string, as SQS stores it). */
  readonly body: string;
  readonly sentAt: string;
}

export interface LocalDlq {
  readonly url: string;
  /** The `sqs:sendMessage` integration: body objects are serialised as Step Functions does. */
  sendMessage(input: { QueueUrl?: string; MessageBody?: unknown }): { MessageId: string; MD5OfMessageBody: string };
  list(): DlqMessage[];
  count(): number;
}

export function createLocalDlq(url: string, file?: string): LocalDlq {
  const memory: DlqMessage[] = [];
  if (file) {
    mkdirSync(dirname(file), { recursive: true });
    repairJournal(file);
  }

  const list = (): DlqMessage[] => {
    if (!file) return [...memory];
    if (!existsSync(file)) return [];
    return journalLines<DlqMessage>(readFileSync(file, 'utf8'));
  };

  return {
    url,
    sendMessage(input) {
      if (input.QueueUrl !== url) {
        const error = new Error(`queue ${String(input.QueueUrl)} does not exist (the local DLQ is ${url})`);
        error.name = 'SQS.QueueDoesNotExistException';
        throw error;
      }
      if (input.MessageBody === undefined) {
        const error = new Error('MessageBody is required');
        error.name = 'SQS.MissingParameterException';
        throw error;
      }
      const body = typeof input.MessageBody === 'string' ? input.MessageBody : JSON.stringify(input.MessageBody);
      const message: DlqMessage = { messageId: randomUUID(), queueUrl: url, body, sentAt: new Date().toISOString() };
      if (file) appendFileSync(file, `${JSON.stringify(message)}\n`);
      else memory.push(message);
      return { MessageId: message.messageId, MD5OfMessageBody: createHash('md5').update(body).digest('hex') };
    },
    list,
    count: () => list().length,
  };
}
