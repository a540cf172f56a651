/**
 * `DEBUG=smartpay:*` as the `debug` package reads it: a comma- or space-separated list of namespaces, `*` a
 * wildcard, a leading `-` an exclusion (which wins). Namespaces: `smartpay:<function>` (`smartpay:payments`,
 * `smartpay:routing-updater`, ...) turns that function's logs to DEBUG; `smartpay:local` the local platform's own.
 */
export function debugEnabled(setting: string | undefined, namespace: string): boolean {
  if (!setting) return false;
  const patterns = setting.split(/[\s,]+/).filter(Boolean);
  const matches = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(namespace);
  if (patterns.some((p) => p.startsWith('-') && matches(p.slice(1)))) return false;
  return patterns.some((p) => !p.startsWith('-') && matches(p));
}
