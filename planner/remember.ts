/**
 * A pure function of a text, remembered: the planner digests and fingerprints the same steps again
 * at every re-plan (one per event of a remediation), and hashing their canonical JSON in JS was most
 * of a re-plan's time in the replay profile; a policy's rule patterns are compiled once, not per match.
 * Finding a text already seen is V8's own string hash. The answers depend on the text alone, so
 * sharing them between workflow runs (a worker evaluates the planner once) changes nothing but the
 * time. Bounded: emptied when full. A computation that throws is not remembered.
 */
export function rememberByText<T>(compute: (text: string) => T, kept = 512): (text: string) => T {
  const known = new Map<string, T>();
  return (text) => {
    const seen = known.get(text);
    if (seen !== undefined) return seen;
    const answer = compute(text);
    if (known.size >= kept) known.clear();
    known.set(text, answer);
    return answer;
  };
}
