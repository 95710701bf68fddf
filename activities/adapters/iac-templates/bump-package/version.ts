/**
 * Version ordering good enough for "is the manifest's version below the fixed one": dotted
 * numeric releases of any length (semver, PEP 440 and Go versions alike), pre-releases
 * (`-rc.1`, `a1`, `.dev0`, Go pseudo-versions) before their release, post-releases after it.
 * Build metadata / local versions (`+...`) are ignored, as both specifications say.
 */

interface Parsed {
  release: number[];
  /** Pre-release identifiers; undefined for a final release. */
  pre?: string[];
  post?: number;
}

const VERSION = /^[vV=]?(\d+(?:\.\d+)*)([0-9A-Za-z.-]*)(?:\+[0-9A-Za-z.-]+)?$/;

export function isVersion(text: string): boolean {
  return parse(text) !== undefined;
}

function parse(text: string): Parsed | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  const release = m[1].split('.').map(Number);
  const rest = m[2].replace(/^[-.]/, '');
  if (rest === '') return { release };
  const post = /^(post|rev|r)[-.]?(\d*)$/i.exec(rest);
  if (post) return { release, post: Number(post[2] || 0) };
  return { release, pre: rest.split(/[.-]/).filter(Boolean) };
}

/** Negative, zero or positive like a sort comparator; throws on text that is not a version. */
export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) throw new Error(`cannot compare versions "${a}" and "${b}"`);
  const n = Math.max(pa.release.length, pb.release.length);
  for (let i = 0; i < n; i++) {
    const d = (pa.release[i] ?? 0) - (pb.release[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  const rank = (p: Parsed) => (p.pre ? 0 : p.post !== undefined ? 2 : 1);
  if (rank(pa) !== rank(pb)) return Math.sign(rank(pa) - rank(pb));
  if (pa.post !== undefined && pb.post !== undefined) return Math.sign(pa.post - pb.post);
  if (pa.pre && pb.pre) return comparePre(pa.pre, pb.pre);
  return 0;
}

function comparePre(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === undefined) return -1;
    if (b[i] === undefined) return 1;
    const d = compareIdentifier(a[i], b[i]);
    if (d !== 0) return d;
  }
  return 0;
}

/** Natural order inside one identifier (`rc10` after `rc9`); PEP 440's `dev` sorts before `a`. */
function compareIdentifier(a: string, b: string): number {
  const key = (s: string) => (/^dev/i.test(s) ? ' ' + s : s.toLowerCase());
  const ca = key(a).match(/\d+|\D+/g) ?? [];
  const cb = key(b).match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
    if (ca[i] === undefined) return -1;
    if (cb[i] === undefined) return 1;
    const na = /^\d/.test(ca[i]);
    const nb = /^\d/.test(cb[i]);
    // Numeric identifiers sort before alphanumeric ones (semver 11.4.3).
    if (na !== nb) return na ? -1 : 1;
    const d = na ? Number(ca[i]) - Number(cb[i]) : ca[i] < cb[i] ? -1 : ca[i] > cb[i] ? 1 : 0;
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
