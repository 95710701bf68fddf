/**
 * Rule patterns of a playbook's `match.rules`: an exact rule id, or `/regex/` in RE2 syntax.
 * The regex runs on re2js, a pure-JS port of RE2 whose matching time is linear in the input,
 * so a policy regex cannot backtrack catastrophically (`/(a+)+$/` included), in the API, the
 * activities or the workflow sandbox (the planner matches inside the workflow). RE2 has no
 * lookaround or backreferences; such patterns are refused when the policy is loaded.
 */
import { RE2JS } from 're2js';
import { rememberByText } from './remember';

/** Bounds the automaton so even a linear-time match stays cheap: `x{1000}` repeated is refused. */
const MAX_PATTERN_CHARS = 512;
const MAX_PROGRAM_SIZE = 5_000;

export function isRegexPattern(pattern: string): boolean {
  return pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/');
}

// A policy has a handful of patterns; the bound only stops a long-lived worker from hoarding.
const compile = rememberByText((source) => RE2JS.compile(source, RE2JS.CASE_INSENSITIVE), 256);

/** Why a `/regex/` pattern is refused at policy load, or undefined (also for exact ids). */
export function rulePatternProblem(pattern: string): string | undefined {
  if (!isRegexPattern(pattern)) return undefined;
  const source = pattern.slice(1, -1);
  if (source.length > MAX_PATTERN_CHARS) return `regular expression longer than ${MAX_PATTERN_CHARS} characters`;
  let re: RE2JS;
  try {
    re = compile(source);
  } catch (e) {
    return `not a valid regular expression (RE2 syntax: no lookaround or backreferences): ${(e as Error).message.replace(/^error parsing regexp: /, '')}`;
  }
  const size = re.programSize();
  return size > MAX_PROGRAM_SIZE ? `regular expression too large (${size} instructions, at most ${MAX_PROGRAM_SIZE})` : undefined;
}

/** Case-insensitive: an exact id, or a `/regex/` found anywhere in the rule (anchor it with ^ and $). */
export function ruleMatches(pattern: string, rule: string): boolean {
  if (!isRegexPattern(pattern)) return pattern.toLowerCase() === rule.toLowerCase();
  try {
    return compile(pattern.slice(1, -1)).test(rule);
  } catch {
    // Refused at load; a policy that bypassed the loader matches nothing rather than failing a workflow task.
    return false;
  }
}
