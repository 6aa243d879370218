/** Objects nest a few levels; anything deeper than this is not a Kubernetes object. */
export const MAX_JSON_DEPTH = 100;

/**
 * How deep a JSON value nests, counted without recursion (so a hostile value cannot overflow the
 * stack here); stops counting once past `limit`.
 */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return max;
}
