/**
 * POST /reward/relay end to end on the local platform: a customer with reward tokens and no SOL moves or burns them,
 * the treasury paying the fee, through the same RPC calls the cloud makes; and the ways a customer could try to
 * spend the treasury's money through it are refused with a 400 naming why, the treasury's balance untouched.
 * Balances are read from the local ledger through web3.js.
 */
import { ComputeBudgetProgram, Connection, Keypair, PublicKey, SystemProgram, Transaction, TransactionInstruction, type Signer } from '@solana/web3.js';
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createBurnCheckedInstruction,
  createMintToCheckedInstruction,
  createTransferCheckedInstruction,
  getAccount,
  getAssociatedTokenAddressSync,
  getMint,
} from '@solana/spl-token';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, fieldsOf, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

let platform: LocalPlatform;
let client: ApiClient;
let connection: Connection;
let mint: PublicKey;
let treasury: PublicKey;
const customer = Keypair.generate();
const friend = Keypair.generate();
const MEMO = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
const DECIMALS = 6;

beforeAll(async () => {
  // A small daily budget per merchant, to see it end.
  platform = await startPlatform({ env: { RELAY_DAILY_LIMIT: '3' } });
  client = await ApiClient.forMerchant(platform, uniqueMerchant());
  connection = new Connection(platform.solana.url, 'confirmed');
  mint = new PublicKey(platform.solana.rewardMint);
  treasury = new PublicKey(platform.solana.treasury);
  // Rewards minted to both wallets (the friend's token account exists then): 10 and 1 tokens.
  for (const [wallet, amount] of [[customer, 50_000], [friend, 5_000]] as const) {
    expect((await client.pay(payBody({ amount, customerId: uniqueCustomer(), rewardWallet: wallet.publicKey.toBase58() }))).status).toBe(201);
  }
  await platform.idle();
});
afterAll(async () => {
  await platform?.close(1000);
});

const ataOf = (owner: PublicKey) => getAssociatedTokenAddressSync(mint, owner);
const tokensOf = async (owner: PublicKey) => (await getAccount(connection, ataOf(owner))).amount;

/** The customer's transaction with the treasury as fee payer, signed by `signers` (the customer by default), in base64. */
async function relayable(instructions: TransactionInstruction[], signers: Signer[] = [customer], feePayer = treasury): Promise<string> {
  const { blockhash } = await connection.getLatestBlockhash();
  const tx = new Transaction({ feePayer, recentBlockhash: blockhash }).add(...instructions);
  if (signers.length) tx.partialSign(...signers);
  return tx.serialize({ requireAllSignatures: false, verifySignatures: false }).toString('base64');
}
const transfer = (tokens: bigint, from = customer.publicKey, to = friend.publicKey) =>
  createTransferCheckedInstruction(ataOf(from), mint, ataOf(to), customer.publicKey, tokens, DECIMALS);
const relay = (transaction: string) => client.call('POST', '/reward/relay', { body: { transaction } });

test('GET /reward/relay names the fee payer, the token and the limits', async () => {
  const policy = await client.call('GET', '/reward/relay');
  expect(policy.status).toBe(200);
  expect(policy.json.relay).toMatchObject({ feePayer: treasury.toBase58(), tokenMint: mint.toBase58(), decimals: DECIMALS, limits: { maxBytes: 1232, maxInstructions: 4 } });
  // The treasury is not the mint authority: its signature can never mint.
  expect(treasury.toBase58()).not.toBe((await getMint(connection, mint)).mintAuthority?.toBase58());
});

test('a customer without SOL transfers reward tokens with a memo, the treasury paying only the fee; the same transaction again changes nothing', async () => {
  expect(await connection.getBalance(customer.publicKey)).toBe(0);
  const treasuryBefore = await connection.getBalance(treasury);
  const [mine, theirs] = [await tokensOf(customer.publicKey), await tokensOf(friend.publicKey)];
  const transaction = await relayable([transfer(2_500_000n), new TransactionInstruction({ programId: MEMO, keys: [], data: Buffer.from('thanks for lunch') })]);

  const relayed = await relay(transaction);
  expect(relayed.status).toBe(200);
  expect(relayed.json.relay).toMatchObject({ state: 'finalized', feePayer: treasury.toBase58(), feeLamports: 10_000 });
  expect(await tokensOf(customer.publicKey)).toBe(mine - 2_500_000n);
  expect(await tokensOf(friend.publicKey)).toBe(theirs + 2_500_000n);
  // The fee of two signatures, and nothing else, left the treasury; the customer still has no SOL.
  expect(await connection.getBalance(treasury)).toBe(treasuryBefore - 10_000);
  expect(await connection.getBalance(customer.publicKey)).toBe(0);
  const onChain = await connection.getTransaction(relayed.json.relay.signature, { maxSupportedTransactionVersion: 0 });
  expect(onChain?.meta?.err).toBeNull();

  const again = await relay(transaction);
  expect(again.status).toBe(200);
  expect(again.json.relay.signature).toBe(relayed.json.relay.signature);
  expect(await tokensOf(customer.publicKey)).toBe(mine - 2_500_000n);
  expect(await connection.getBalance(treasury)).toBe(treasuryBefore - 10_000);
});

test('a customer burns reward tokens: the supply goes down by as much', async () => {
  const supply = (await getMint(connection, mint)).supply;
  const mine = await tokensOf(customer.publicKey);
  const relayed = await relay(await relayable([createBurnCheckedInstruction(ataOf(customer.publicKey), mint, customer.publicKey, 1_000_000n, DECIMALS)]));
  expect(relayed.status).toBe(200);
  expect(await tokensOf(customer.publicKey)).toBe(mine - 1_000_000n);
  expect((await getMint(connection, mint)).supply).toBe(supply - 1_000_000n);
});

test("a merchant's relays of the day are bounded (RELAY_DAILY_LIMIT): past it a 429, while a replay still answers", async () => {
  // Another merchant: the transfers and the burn above were this file's first merchant's (2 of its 3).
  const other = await ApiClient.forMerchant(platform, uniqueMerchant());
  const sent: string[] = [];
  for (const tokens of [1n, 2n, 3n]) {
    const transaction = await relayable([transfer(tokens)]);
    expect((await other.call('POST', '/reward/relay', { body: { transaction } })).status).toBe(200);
    sent.push(transaction);
  }
  const mine = await tokensOf(customer.publicKey);
  const over = await other.call('POST', '/reward/relay', { body: { transaction: await relayable([transfer(4n)]) } });
  expect(over.status).toBe(429);
  expect(over.json.error.code).toBe('relay_budget_exhausted');
  expect(await tokensOf(customer.publicKey)).toBe(mine);
  expect((await other.call('POST', '/reward/relay', { body: { transaction: sent[0] } })).status).toBe(200);
});

test('a stage without a treasury: the mint authority pays the mints, and the relay answers 409 relay_not_configured', async () => {
  const bare = await startPlatform({ env: { SOLANA_TREASURY_SECRET_ARN: '' } });
  try {
    const merchant = await ApiClient.forMerchant(bare, uniqueMerchant());
    for (const call of [merchant.call('GET', '/reward/relay'), merchant.call('POST', '/reward/relay', { body: { transaction: 'AAAA' } })]) {
      const refused = await call;
      expect(refused.status).toBe(409);
      expect(refused.json.error).toMatchObject({ code: 'relay_not_configured', message: expect.stringMatching(/SOLANA_TREASURY_SECRET_ARN/) });
    }
    const wallet = Keypair.generate().publicKey;
    expect((await merchant.pay(payBody({ amount: 5_000, customerId: uniqueCustomer(), rewardWallet: wallet.toBase58() }))).status).toBe(201);
    await bare.idle();
    const chain = new Connection(bare.solana.url, 'confirmed');
    const [minted] = await chain.getSignaturesForAddress(getAssociatedTokenAddressSync(new PublicKey(bare.solana.rewardMint), wallet));
    const tx = await chain.getTransaction(minted.signature, { maxSupportedTransactionVersion: 0 });
    expect(tx?.transaction.message.staticAccountKeys[0].toBase58()).toBe(bare.solana.mintAuthority);
  } finally {
    await bare.close(1000);
  }
});

test('keys that cannot be read are a 503 to ask again, naming no secret', async () => {
  const missing = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:smartpay/no-such-key-AbCdEf';
  const broken = await startPlatform({ env: { SOLANA_MINT_AUTHORITY_SECRET_ARN: missing } });
  try {
    const merchant = await ApiClient.forMerchant(broken, uniqueMerchant());
    for (const path of ['/reward/relay', `/rewards/${Keypair.generate().publicKey.toBase58()}`]) {
      const answer = await merchant.call('GET', path);
      expect(answer.status).toBe(503);
      expect(answer.json.error.code).toBe('transient_failure');
      expect(JSON.stringify(answer.json)).not.toContain('no-such-key');
    }
  } finally {
    await broken.close(1000);
  }
});

describe('drain attempts are refused with a 400 naming the reason, and cost the treasury nothing', () => {
  let treasuryBefore: number;
  beforeAll(async () => {
    treasuryBefore = await connection.getBalance(treasury);
  });
  afterAll(async () => {
    expect(await connection.getBalance(treasury)).toBe(treasuryBefore);
  });

  const otherMint = Keypair.generate().publicKey;
  /** A wallet with no token account of the reward token. */
  const newcomer = Keypair.generate().publicKey;
  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ['a SOL transfer out of the treasury', () => relayable([SystemProgram.transfer({ fromPubkey: treasury, toPubkey: customer.publicKey, lamports: 1_000_000_000 })], []), /names the treasury/],
    [
      'a mint of the reward token (its authority is not the treasury, and is never named)',
      () => relayable([createMintToCheckedInstruction(mint, ataOf(customer.publicKey), new PublicKey(platform.solana.mintAuthority), 1_000_000_000n, DECIMALS)], []),
      /names the mint authority/,
    ],
    ['a SOL transfer of the customer\'s own', () => relayable([SystemProgram.transfer({ fromPubkey: customer.publicKey, toPubkey: friend.publicKey, lamports: 1 })]), /program 11111111111111111111111111111111 is not relayed/],
    [
      'a transfer of another mint',
      () => relayable([createTransferCheckedInstruction(getAssociatedTokenAddressSync(otherMint, customer.publicKey), otherMint, getAssociatedTokenAddressSync(otherMint, friend.publicKey), customer.publicKey, 1n, DECIMALS)]),
      /only the reward token/,
    ],
    ['an extra instruction after a transfer', () => relayable([transfer(1n), SystemProgram.transfer({ fromPubkey: customer.publicKey, toPubkey: friend.publicKey, lamports: 1 })]), /instruction 2: the program 1111/],
    ['the treasury\'s token account as source', () => relayable([transfer(1n, treasury)]), /treasury's token account/],
    ['a priority fee (paid by the treasury)', () => relayable([ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000_000 }), transfer(1n)]), /priority fee/],
    ['another fee payer', () => relayable([transfer(1n)], [customer], customer.publicKey), /fee payer .* not the treasury/],
    ['a transaction the customer did not sign', () => relayable([transfer(1n)], []), /is not signed by/],
    ['more tokens than the customer has (it would fail on chain)', () => relayable([transfer(1_000_000_000n)]), /would fail on chain/],
    // The relay pays no rent: a recipient's token account is not created at the treasury's expense, and a transfer
    // to a wallet that has none fails on chain, so it is refused before any fee.
    [
      'a token account created for the recipient, its rent paid by the treasury',
      () => relayable([createAssociatedTokenAccountIdempotentInstruction(treasury, ataOf(newcomer), newcomer, mint), transfer(1n, customer.publicKey, newcomer)]),
      /instruction 1 names the treasury .*: the treasury only pays the fee/,
    ],
    ['a transfer to a wallet without a token account', () => relayable([transfer(1n, customer.publicKey, newcomer)]), /would fail on chain/],
  ];
  test.each(cases)('%s', async (_name, build, reason) => {
    const refused = await relay(await build());
    expect(refused.status).toBe(400);
    expect(fieldsOf(refused)).toEqual(['transaction']);
    expect(refused.json.error.message).toMatch(reason);
  });

  test('an oversized transaction', async () => {
    const padded = Buffer.concat([Buffer.from(await relayable([transfer(1n)]), 'base64'), Buffer.alloc(1_000)]);
    const refused = await relay(padded.toString('base64'));
    expect(refused.status).toBe(400);
    expect(fieldsOf(refused)).toEqual(['transaction']);
    expect(refused.json.error.message).toMatch(/at most 1232 bytes/);
  });
});
