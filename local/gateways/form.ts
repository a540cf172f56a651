/**
 * Stripe's form encoding, read back: `a[b][c]=v` nests objects, `a[0]=v` and `a[]=v` make arrays, as the
 * `stripe` SDK writes them (application/x-www-form-urlencoded, and the query of a GET).
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };

export function parseStripeForm(encoded: string): Record<string, FormValue> {
  const root: Record<string, FormValue> = Object.create(null) as Record<string, FormValue>;
  for (const [name, value] of new URLSearchParams(encoded)) {
    const path = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(name);
    if (!path) continue;
    const keys = [path[1], ...[...path[2].matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1])];
    let node: Record<string, FormValue> | FormValue[] = root;
    for (let i = 0; i < keys.length; i += 1) {
      const key = keys[i];
      const last = i === keys.length - 1;
      const nextIsArray = !last && (keys[i + 1] === '' || /^\d+$/.test(keys[i + 1]));
      if (Array.isArray(node)) {
        const index = key === '' ? node.length : Number(key);
        if (last) node[index] = value;
        else node = (node[index] ??= nextIsArray ? [] : (Object.create(null) as Record<string, FormValue>)) as Record<string, FormValue> | FormValue[];
      } else {
        // Prototype keys are plain keys here (the object has no prototype).
        if (last) node[key] = value;
        else {
          const existing = node[key];
          node = (typeof existing === 'object' ? existing : (node[key] = nextIsArray ? [] : (Object.create(null) as Record<string, FormValue>))) as Record<string, FormValue> | FormValue[];
        }
      }
    }
  }
  return root;
}
