/**
 * Every vocabulary is defined once, in contracts/: across the source folders (contracts/ included) there is
 * exactly one zod enum, union type or whole list of its words, its own definition. (Data that uses a few of the
 * words, such as a connector's `methods: ['card']`, is not a definition and is allowed.)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Composer, Dimension, DocumentKind, Metric, Planner } from '../../contracts/analytics';
import { AttemptOutcome, ChargeOutcome, FraudDecision, HealthStatus, PaymentStatus, ScoredBy } from '../../contracts/api';
import { ConnectorKind } from '../../contracts/connectors';
import { CardBrand, CardNetwork, PaymentMethodKind } from '../../contracts/methods';
import { Region } from '../../contracts/regions';
import { TableName } from '../../contracts/resources';

const ROOT = join(__dirname, '..', '..');
const FOLDERS = ['bin', 'contracts', 'lib', 'lambdas', 'local', 'ml', 'bench'];

const VOCABULARIES: Record<string, readonly string[]> = {
  PaymentMethodKind: PaymentMethodKind.options,
  CardNetwork: CardNetwork.options,
  CardBrand: CardBrand.options,
  Region: Region.options,
  ConnectorKind: ConnectorKind.options,
  AttemptOutcome: AttemptOutcome.options,
  PaymentStatus: PaymentStatus.options,
  FraudDecision: FraudDecision.options,
  HealthStatus: HealthStatus.options,
  TableName: TableName.options,
  ScoredBy: ScoredBy.options,
  Metric: Metric.options,
  Dimension: Dimension.options,
  DocumentKind: DocumentKind.options,
  Planner: Planner.options,
  Composer: Composer.options,
  ChargeOutcome: ChargeOutcome.options,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sources(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * The definitions of `words` in a text: zod enums and union types of two or more of them (and nothing else),
 * and lists of exactly all of them.
 */
export function restatements(text: string, words: readonly string[]): string[] {
  const quoted = new RegExp(`^(['"])(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\1$`);
  // Items that are all words of this vocabulary (words shared by two vocabularies do not make a hit by themselves).
  const count = (items: string[]) => (items.every((item) => quoted.test(item.trim())) ? items.length : 0);
  const found: string[] = [];
  for (const match of text.matchAll(/z\.enum\(\[([^\]]*)\]/g)) if (count((match[1] as string).split(',')) >= 2) found.push(match[0]);
  for (const match of text.matchAll(/(['"])[^'"\n]*\1(?:\s*\|\s*(['"])[^'"\n]*\2)+/g)) if (count(match[0].split('|')) >= 2) found.push(match[0]);
  for (const match of text.matchAll(/\[([^\][]*)\]/g)) {
    if (text.slice(Math.max(0, match.index - 7), match.index) === 'z.enum(') continue; // the enum above already counted it
    const items = (match[1] as string).split(',');
    if (words.length > 1 && items.length === words.length && count(items) === words.length) found.push(match[0]);
  }
  return found;
}

test('the check finds an enum, a union and a whole list, and lets data pass', () => {
  const words = ['card', 'wallet', 'solana_pay'];
  expect(restatements(`const A = z.enum(['card', 'wallet']);`, words)).toHaveLength(1);
  expect(restatements(`type M = 'card' | 'wallet' | 'solana_pay';`, words)).toHaveLength(1);
  expect(restatements(`const METHODS = ['card', 'wallet', 'solana_pay'];`, words)).toHaveLength(1);
  expect(restatements(`const c = { methods: ['card', 'wallet'] };`, words)).toEqual([]);
  expect(restatements(`type F = 'card' | 'cash';`, words)).toEqual([]);
  expect(restatements(`type D = "card" | "wallet";`, words)).toHaveLength(1);
});

test('each vocabulary is defined exactly once (its definition in contracts/)', () => {
  const found: Record<string, string[]> = Object.fromEntries(Object.keys(VOCABULARIES).map((name) => [name, []]));
  for (const file of FOLDERS.flatMap((folder) => sources(join(ROOT, folder)))) {
    const text = readFileSync(file, 'utf8');
    for (const [name, words] of Object.entries(VOCABULARIES)) {
      for (const hit of restatements(text, words)) found[name]!.push(`${relative(ROOT, file)}: ${hit}`);
    }
  }
  for (const [name, hits] of Object.entries(found)) {
    expect({ name, definitions: hits.length === 1 && hits[0]!.startsWith('contracts/') ? 'one, in contracts/' : hits }).toEqual({ name, definitions: 'one, in contracts/' });
  }
});
