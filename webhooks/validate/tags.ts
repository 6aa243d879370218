import { violation, type Violation } from '../findings.ts';

/** A tag (node, disk, selector): letters, digits, '.', '_' and '-', 1 to 63 characters. */
const TAG_RE = /^[A-Za-z0-9._-]{1,63}$/;

/** Checks a list of tags: each well formed, none repeated. */
export function checkTags(path: string, tags: readonly string[] | undefined): Violation[] {
  const out: Violation[] = [];
  const seen = new Set<string>();
  (tags ?? []).forEach((tag, i) => {
    if (!TAG_RE.test(tag)) out.push(violation('tags', `${path}.${i}`, `expected a tag of 1 to 63 letters, digits, ".", "_" or "-", got ${JSON.stringify(tag.length > 60 ? `${tag.slice(0, 57)}...` : tag)}`));
    else if (seen.has(tag)) out.push(violation('tags', `${path}.${i}`, `tag ${JSON.stringify(tag)} is listed twice`));
    seen.add(tag);
  });
  return out;
}
