/** The local platform's default connector registry (`npm start` sets CONNECTORS to it unless you set your own). */
import type { ConnectorDefinition, SolanaPayAccount } from '../contracts/connectors';

/**
 * The local Solana Pay account: the merchant's wallet and the local stablecoins on the local cluster (their keys
 * are derived from fixed seeds: local/solana/pay-tokens.ts creates them and checks these addresses).
 */
export const LOCAL_SOLANA_PAY: SolanaPayAccount = {
  recipient: 'EGu87GoW9XJay5GPGi5Jugsk8CU7qei4cUvdVLtS2Q2m',
  label: 'SmartPay local merchant',
  tokens: {
    USD: { mint: '8p3zqwSC1tmfRuEk7Jb8dzpXq7Xg1k8XqeJmRbg3273p', decimals: 6 },
    EUR: { mint: 'EqJrKbTKzxnHM8tVCWgo6NLwwfLTLS2St8xUD3nbcarr', decimals: 6 },
  },
};

/**
 * The local platform's registry: three card processors whose approval of ordinary cards depends on the buyer's
 * region, the network and the amount, with different fees, so the routing bandit has something real to learn (the
 * test cards keep their fixed outcomes on every connector); an Amazon Pay account for wallets; and a Solana Pay
 * connector. The Stripe and Amazon Pay accounts run the real adapters against the embedded fakes of their APIs.
 */
export const LOCAL_CONNECTORS: readonly ConnectorDefinition[] = [
  {
    id: 'stripe-us', kind: 'stripe', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'],
    // North American cards at the domestic rate; the rest of the world (unknown countries too) 1.5 points more.
    fee: { basisPoints: 440, fixedMinor: 30, rules: [{ regions: ['NA'], basisPoints: 290, fixedMinor: 30 }] },
    approval: { base: 0.9, byRegion: { NA: 0.06, EU: -0.05, UK: -0.04, APAC: -0.08, LATAM: -0.12 }, byNetwork: { amex: -0.05 } },
  },
  {
    id: 'stripe-eu', kind: 'stripe', enabled: true, methods: ['card'], currencies: ['EUR', 'GBP', 'USD'], regions: ['*'],
    // European and UK cards at the domestic rate; the rest of the world at the international one.
    fee: { basisPoints: 325, fixedMinor: 25, rules: [{ regions: ['EU', 'UK'], basisPoints: 250, fixedMinor: 25 }] },
    approval: { base: 0.88, byRegion: { EU: 0.08, UK: 0.07, NA: -0.06, APAC: -0.05, LATAM: -0.1 } },
  },
  {
    // Amazon Pay wallets (a buyer's Charge Permission), through the Amazon Pay adapter and the fake of its API.
    id: 'amazon-pay', kind: 'amazon_pay', enabled: true, methods: ['wallet'], currencies: ['USD', 'EUR', 'GBP', 'JPY'],
    regions: ['US', 'GB', 'DE', 'FR', 'IT', 'ES', 'JP'],
    fee: { basisPoints: 240, fixedMinor: 30 },
    approval: { base: 0.91, large: { minor: 50_000, delta: -0.1 } },
  },
  {
    id: 'sandbox-latam', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'],
    fee: { basisPoints: 320, fixedMinor: 40 },
    approval: { base: 0.8, byRegion: { LATAM: 0.15, APAC: 0.05 }, large: { minor: 100_000, delta: 0.05 } },
  },
  {
    // Takes Solana Pay only: a card is never routed to it, and it is the only choice for Solana Pay.
    id: 'solana-pay', kind: 'solana_pay', enabled: true, methods: ['solana_pay'], currencies: ['USD', 'EUR'], regions: ['*'],
    fee: { basisPoints: 100, fixedMinor: 0 },
    solanaPay: LOCAL_SOLANA_PAY,
  },
];
