/**
 * Stripe's request encoding (application/x-www-form-urlencoded with bracketed keys, e.g.
 * `line_items[0][price_data][currency]=usd`) turned back into nested objects and arrays, for the
 * test gateway. Values stay strings, as on the wire.
 */
type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

export function parseStripeForm(body: string): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const match = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(rawKey);
    if (!match) continue;
    const path = [match[1]!, ...[...match[2]!.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!)];
    let node: FormObject | FormValue[] = root;
    path.forEach((part, i) => {
      const container = node as Record<string, FormValue>;
      if (i === path.length - 1) {
        container[part] = value;
        return;
      }
      const next = path[i + 1]!;
      container[part] ??= /^\d+$/.test(next) ? [] : {};
      node = container[part] as FormObject | FormValue[];
    });
  }
  return root;
}
