/**
 * Builds a compression dictionary for audit/compression.ts from what drw's payloads are made
 * of: the shipped playbooks (policies/default) as loadPolicy sends one to a workflow, and one
 * payload of each shape found in the recorded histories (test/histories: detections, activity
 * inputs and results, the decision log, results). The most common shapes go last, where zlib
 * reaches them most cheaply.
 *
 *   node dist/audit/dictionary/build.js <id>    writes audit/dictionary/<id>.ts
 *
 * A dictionary, once payloads have been written with it, is never changed: histories name it
 * by id and need it to be read. A new one gets a new id, is added to DICTIONARIES in
 * audit/compression.ts and becomes the one new payloads use.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadPolicyDir } from '../../planner/load';
import { compactPolicy } from '../../planner/policy-wire';
import { REPO_ROOT } from '../../common/config';

/** zlib's window is 32 KiB: dictionary bytes further back than this from a payload's first byte are out of its reach. */
const MAX_BYTES = 32_000;
const JSON_PLAIN = Buffer.from('json/plain').toString('base64');

function policyTexts(): string[] {
  const p = loadPolicyDir(path.join(REPO_ROOT, 'policies', 'default'));
  return p.playbooks.map((pb) => JSON.stringify(compactPolicy({ version: p.version, playbooks: [pb], ...(p.facts ? { facts: p.facts } : {}), files: { [pb.id]: p.files[pb.id] } })));
}

function shapeOf(v: unknown): string {
  if (Array.isArray(v)) return `[${v[0] && typeof v[0] === 'object' ? shapeOf(v[0]) : ''}]`;
  if (v && typeof v === 'object') return Object.keys(v).sort().join(',');
  return typeof v;
}

/** One payload per shape (the shortest), with how often the shape occurs. */
function payloadTexts(dir: string): { text: string; n: number }[] {
  const byShape = new Map<string, { text: string; n: number }>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as { metadata?: { encoding?: string }; data?: unknown };
    if (o.metadata?.encoding === JSON_PLAIN && typeof o.data === 'string') {
      const text = Buffer.from(o.data, 'base64').toString('utf8');
      if (text.length < 40) return;
      const key = shapeOf(JSON.parse(text));
      const seen = byShape.get(key);
      byShape.set(key, { text: seen && seen.text.length <= text.length ? seen.text : text, n: (seen?.n ?? 0) + 1 });
      return;
    }
    Object.values(v).forEach(walk);
  };
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) walk(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
  return [...byShape.values()].sort((a, b) => a.n - b.n || a.text.localeCompare(b.text));
}

function main(): void {
  const id = process.argv[2];
  if (!id || !/^[a-z0-9-]+$/.test(id)) throw new Error('usage: build <id> (lower-case letters, digits, dashes)');
  const policies = policyTexts().join('');
  const shapes = payloadTexts(path.join(REPO_ROOT, 'test', 'histories'))
    .map((s) => s.text)
    .join('');
  const text = (shapes.slice(-(MAX_BYTES - policies.length)) + policies).slice(-MAX_BYTES);
  const chunks = text.match(/[\s\S]{1,100}/g) ?? [];
  const out = [
    `/** Compression dictionary "${id}" (built by audit/dictionary/build.ts; never edit: histories need it as it is). */`,
    `export const DICTIONARY = [`,
    ...chunks.map((c) => `  ${JSON.stringify(c)},`),
    `].join('');`,
    '',
  ].join('\n');
  writeFileSync(path.join(REPO_ROOT, 'audit', 'dictionary', `${id}.ts`), out);
  process.stdout.write(`audit/dictionary/${id}.ts: ${Buffer.byteLength(text)} bytes\n`);
}

main();
