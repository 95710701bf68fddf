/**
 * The one form a person's or a group's name is compared in: Unicode compatibility forms folded
 * (NFKC: full-width "ａｌｉｃｅ" is "alice"), invisible format characters removed (a zero-width
 * space does not make a second approver), case folded, spaces collapsed. Quorum, self-approval,
 * allow-lists and the reserved "drw:" prefix all see this form, so look-alike names count once.
 * Pure: the workflow bundle uses it.
 */
export function normalizeIdentity(name: string): string {
  const folded = name
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    // Upper then lower approximates full case folding (ß → SS → ss), which JavaScript lacks.
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC');
  return folded.replace(/\s+/gu, ' ').trim();
}

/** Names drw uses for its own decisions (approval expiry, escalation); no person may take one. */
export function isReservedIdentity(name: string): boolean {
  return normalizeIdentity(name).startsWith('drw:');
}
