/**
 * Solana Pay on the local platform: `/pay` with `solana_pay` answers a pending_action payment whose action is a
 * Solana Pay transfer request; a customer's wallet on the local cluster pays it with @solana/pay's createTransfer
 * through the same JSON-RPC the cloud's cluster speaks, and the payment succeeds once the transfer is found by its
 * reference and validated. A transfer of the wrong amount or the wrong token never settles it.
 */
import { createTransfer, parseURL, type TransferRequestURL } from '@solana/pay';
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, sendAndConfirmTransaction, Transaction, TransactionExpiredBlockheightExceededError } from '@solana/web3.js';
import { createAssociatedTokenAccountIdempotent, createTransferCheckedInstruction, getAssociatedTokenAddressSync, mintTo } from '@solana/spl-token';
import BigNumber from 'bignumber.js';
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import { LOCAL_CONNECTORS, LOCAL_SOLANA_PAY } from '../../local/connectors';
import type { LocalPlatform } from '../../local/platform';
import { localPayKeys } from '../../local/solana/pay-tokens';
import { ApiClient, closeConnection, expectDeclaredPayment, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

const SOLANA_PAY = LOCAL_CONNECTORS.find((c) => c.kind === 'solana_pay')!;
let platform: LocalPlatform;
let client: ApiClient;
let connection: Connection;
beforeAll(async () => {
  platform = await startPlatform({ env: { CONNECTORS: JSON.stringify([...DEFAULT_CONNECTORS, SOLANA_PAY]), RECONCILE_AFTER_MS: '3000' } });
  client = await ApiClient.forMerchant(platform, uniqueMerchant());
  await platform.solana.ledger();
  connection = new Connection(platform.solana.url, 'confirmed');
});
afterAll(async () => {
  if (connection) closeConnection(connection);
  await platform?.close(1000);
});

/**
 * Sends a transaction built by `send` (on a fresh blockhash each time) again while the cluster no longer knows its
 * blockhash, as a wallet does: the local ledger forgets a blockhash held unused for about a second (README, "The
 * local Solana ledger"), which a loaded machine reaches between fetching one and sending.
 */
async function rebuilt<T>(send: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries += 1) {
    try {
      return await send();
    } catch (error) {
      if (tries >= 5 || !/Blockhash not found/.test((error as Error).message)) throw error;
    }
  }
}

/** A customer's wallet with SOL for fees and `stablecoins` of each local stablecoin. */
async function customerWallet(stablecoins: number) {
  const customer = Keypair.generate();
  await connection.confirmTransaction(await connection.requestAirdrop(customer.publicKey, LAMPORTS_PER_SOL), 'confirmed');
  const { mints, authority } = localPayKeys();
  for (const mint of Object.values(mints)) {
    const ata = await rebuilt(() => createAssociatedTokenAccountIdempotent(connection, customer, mint.publicKey, customer.publicKey));
    // A repeat after an unknown blockhash mints nothing twice: the refused transaction never ran.
    await rebuilt(() => mintTo(connection, customer, mint.publicKey, ata, authority, stablecoins * 1_000_000));
  }
  return customer;
}

/** Pays a transfer request from the customer's wallet, with these fields changed (a wrong amount or token). */
async function pay(customer: Keypair, request: TransferRequestURL, change: { amount?: BigNumber; splToken?: PublicKey; recipient?: PublicKey } = {}) {
  return rebuilt(async () => {
    const transaction: Transaction = await createTransfer(connection, customer.publicKey, {
      recipient: change.recipient ?? request.recipient,
      amount: change.amount ?? request.amount!,
      splToken: change.splToken ?? request.splToken,
      reference: request.reference,
      memo: request.memo,
    });
    return sendAndConfirmTransaction(connection, transaction, [customer], { commitment: 'confirmed' });
  });
}

async function requested(amount: number, currency = 'USD') {
  const result = await client.pay(payBody({ amount, currency, customerId: uniqueCustomer(), paymentMethod: { type: 'solana_pay' } }));
  expect(result.status).toBe(202);
  const { payment } = result.json;
  expect(payment).toMatchObject({ status: 'pending_action', action: { type: 'solana_pay', recipient: LOCAL_SOLANA_PAY.recipient }, solanaPay: {} });
  expectDeclaredPayment(payment);
  return { payment, request: parseURL(payment.action.url) as TransferRequestURL };
}

test('a Solana Pay payment is a transfer request (the spec’s fields); a customer’s transfer settles it', async () => {
  const { payment, request } = await requested(1_999);
  expect(request.recipient.toBase58()).toBe(LOCAL_SOLANA_PAY.recipient);
  expect(request.amount?.toString()).toBe('19.99');
  expect(request.splToken?.toBase58()).toBe(LOCAL_SOLANA_PAY.tokens.USD!.mint);
  expect(request.reference?.map((r) => r.toBase58())).toEqual([payment.action.reference]);
  expect(request.label).toBe(LOCAL_SOLANA_PAY.label);
  expect(request.memo).toBe(payment.paymentId);
  expect(request.message).toBeTruthy();

  const customer = await customerWallet(100);
  const signature = await pay(customer, request);
  const read = await client.call('GET', `/payments/${payment.paymentId}`);
  expect(read.json.payment).toMatchObject({ status: 'succeeded', connectorId: SOLANA_PAY.id, feeMinor: 20 });
  expect(read.json.payment.attempts).toEqual([expect.objectContaining({ outcome: 'succeeded', gatewayReference: signature })]);
  expect(read.json.payment.action).toBeUndefined();
});

test('a transfer of the wrong amount, of another token or to another wallet never settles the payment', async () => {
  const { payment, request } = await requested(2_500);
  const customer = await customerWallet(100);
  const stranger = await customerWallet(0);
  await pay(customer, request, { amount: new BigNumber('24.99') });
  await pay(customer, request, { splToken: new PublicKey(LOCAL_SOLANA_PAY.tokens.EUR!.mint) });
  await pay(customer, request, { recipient: stranger.publicKey });
  expect((await client.call('GET', `/payments/${payment.paymentId}`)).json.payment.status).toBe('pending_action');
  // The reconciler's look finds none of them either.
  await platform.schedules.run('reconcile');
  expect((await client.call('GET', `/payments/${payment.paymentId}`)).json.payment.status).toBe('pending_action');
  // The right transfer after them settles it, with its own signature: the reconciler's next look finds it (no
  // webhook tells of a transfer: the listing reads the record as stored, without looking itself).
  const signature = await pay(customer, request);
  // (This platform's reconciler takes payments 3 s old: RECONCILE_AFTER_MS.)
  await new Promise((resolve) => setTimeout(resolve, 3_500));
  await platform.schedules.run('reconcile');
  const listed = await client.call('GET', `/payments?q=${payment.paymentId}`);
  expect(listed.json.payments.map((p: { paymentId: string; status: string }) => [p.paymentId, p.status])).toEqual([[payment.paymentId, 'succeeded']]);
  const read = await client.call('GET', `/payments/${payment.paymentId}`);
  expect(read.json.payment).toMatchObject({ status: 'succeeded' });
  expect(read.json.payment.attempts[0].gatewayReference).toBe(signature);
});

test('a currency without a stablecoin is not routed to Solana Pay', async () => {
  const result = await client.pay(payBody({ amount: 1_000, currency: 'JPY', customerId: uniqueCustomer(), paymentMethod: { type: 'solana_pay' } }));
  expect(result.status).toBe(422);
  expect(result.json.error.code).toBe('no_eligible_connector');
});

test('the right transfer is found however many transfers carrying the reference come after it (pages of signatures)', async () => {
  const { payment, request } = await requested(700);
  const customer = await customerWallet(100);
  const signature = await pay(customer, request);
  // 120 tiny transfers with the same reference after it: more than a page of signatures (100).
  const { mints } = localPayKeys();
  const from = getAssociatedTokenAddressSync(mints.USD.publicKey, customer.publicKey);
  const to = getAssociatedTokenAddressSync(mints.USD.publicKey, request.recipient);
  for (let sent = 0; sent < 120; ) {
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash('confirmed');
    const batch: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const transfer = createTransferCheckedInstruction(from, mints.USD.publicKey, to, customer.publicKey, 1 + sent + i, 6);
      transfer.keys.push({ pubkey: request.reference![0]!, isSigner: false, isWritable: false });
      const tx = new Transaction({ feePayer: customer.publicKey, recentBlockhash: blockhash }).add(transfer);
      tx.sign(customer);
      batch.push(await connection.sendRawTransaction(tx.serialize(), { skipPreflight: true }));
    }
    try {
      await connection.confirmTransaction({ signature: batch.at(-1)!, blockhash, lastValidBlockHeight }, 'confirmed');
      sent += batch.length;
    } catch (error) {
      // The ledger forgot the blockhash before the batch landed (a loaded machine): the batch again, on a fresh one.
      if (!(error instanceof TransactionExpiredBlockheightExceededError)) throw error;
    }
  }
  expect((await connection.getSignaturesForAddress(request.reference![0]!, { limit: 100 })).map((s) => s.signature)).not.toContain(signature);
  const read = await client.call('GET', `/payments/${payment.paymentId}`);
  expect(read.json.payment).toMatchObject({ status: 'succeeded' });
  expect(read.json.payment.attempts[0].gatewayReference).toBe(signature);
});
