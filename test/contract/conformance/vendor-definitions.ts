import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import type { RecordedRequest } from '../../../simulators/base';

/**
 * Vendor-authored API definitions, read from packages: GitHub's OpenAPI description as
 * @octokit/openapi-types ships it (generated from github/rest-api-description), and Jira
 * Cloud's v3 REST API as jira.js ships it (its version3 client, generated from Atlassian's
 * OpenAPI). Each operation: method, path template, and the body fields the vendor requires.
 */
export interface Operation {
  method: string;
  template: string;
  requiredBody: string[];
}

/** The installed package's folder (its sources and .d.ts files are read, not imported). */
function packageDir(name: string): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
  }
  throw new Error(`${name} is not installed (a devDependency: npm ci)`);
}

/** Operations of GitHub's OpenAPI description (paths → operations[id] → requestBody). */
export function githubOperations(): Operation[] {
  const file = path.join(packageDir('@octokit/openapi-types'), 'types.d.ts');
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const interfaces = new Map<string, ts.InterfaceDeclaration>();
  source.forEachChild((n) => {
    if (ts.isInterfaceDeclaration(n)) interfaces.set(n.name.text, n);
  });
  const paths = interfaces.get('paths');
  const operations = interfaces.get('operations');
  if (!paths || !operations) throw new Error('@octokit/openapi-types: no paths/operations interface');
  const opById = new Map(operations.members.filter(ts.isPropertySignature).map((m) => [propName(m), m]));
  const out: Operation[] = [];
  for (const p of paths.members.filter(ts.isPropertySignature)) {
    if (!p.type || !ts.isTypeLiteralNode(p.type)) continue;
    for (const m of p.type.members.filter(ts.isPropertySignature)) {
      const method = propName(m).toUpperCase();
      if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method) || !m.type || !ts.isIndexedAccessTypeNode(m.type)) continue;
      const id = literalText(m.type.indexType);
      const op = id ? opById.get(id) : undefined;
      out.push({ method, template: propName(p), requiredBody: op ? requiredJsonBody(op) : [] });
    }
  }
  return out;
}

/** Required members of operations[id].requestBody.content["application/json"]. */
function requiredJsonBody(op: ts.PropertySignature): string[] {
  const body = member(op.type, 'requestBody');
  const json = member(member(body?.type, 'content')?.type, 'application/json');
  const type = json?.type;
  if (!type || !ts.isTypeLiteralNode(type)) return [];
  return type.members.filter(ts.isPropertySignature).filter((m) => !m.questionToken).map(propName);
}

function member(type: ts.TypeNode | undefined, name: string): ts.PropertySignature | undefined {
  if (!type || !ts.isTypeLiteralNode(type)) return undefined;
  return type.members.filter(ts.isPropertySignature).find((m) => propName(m) === name);
}

function propName(m: ts.PropertySignature): string {
  return ts.isIdentifier(m.name) || ts.isStringLiteral(m.name) ? m.name.text : m.name.getText();
}

function literalText(node: ts.TypeNode): string | undefined {
  return ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal) ? node.literal.text : undefined;
}

/** Operations of jira.js's version3 client: each request config's url and method, and its parameters' required body fields. */
export function jiraOperations(): Operation[] {
  const dir = path.join(packageDir('jira.js'), 'src', 'version3');
  const out: Operation[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const blocks = text.split('const config: RequestConfig = {');
    for (let i = 1; i < blocks.length; i++) {
      const block = blocks[i].slice(0, blocks[i].indexOf('};') + 2);
      const url = /url: (['`])([^'`]+)\1/.exec(block)?.[2];
      const method = /method: '(\w+)'/.exec(block)?.[1];
      if (!url || !method) continue;
      // A few jira.js urls carry a stray "$" before the placeholder.
      const template = url.replace(/\$\{parameters\??\.(\w+)\}/g, '{$1}').replace(/\$(?=\{)/g, '');
      const params = [...blocks[i - 1].matchAll(/parameters\??: Parameters\.(\w+)/g)].at(-1)?.[1];
      const sent = /data: \{([^}]*)\}/.exec(block)?.[1] ?? '';
      const bodyKeys = [...sent.matchAll(/(\w+):\s*parameters/g)].map((m) => m[1]);
      const required = params ? requiredProps(dir, 'parameters', params) : [];
      out.push({ method: method.toUpperCase(), template, requiredBody: required.filter((r) => bodyKeys.includes(r)) });
    }
  }
  return out;
}

/** Non-optional properties of a jira.js interface, following `extends` into its models. */
function requiredProps(dir: string, kind: 'parameters' | 'models', name: string, depth = 0): string[] {
  const file = path.join(dir, kind, `${name[0].toLowerCase()}${name.slice(1)}.ts`);
  if (depth > 3 || !fs.existsSync(file)) return [];
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  source.forEachChild((n) => {
    if (!ts.isInterfaceDeclaration(n) || n.name.text !== name) return;
    for (const m of n.members) if (ts.isPropertySignature(m) && !m.questionToken) out.push(propName(m));
    for (const h of n.heritageClauses ?? []) {
      for (const t of h.types) out.push(...requiredProps(dir, 'models', t.expression.getText(source).replace(/^Models\./, ''), depth + 1));
    }
  });
  return out;
}

/** Why a request does not conform to the definitions, or undefined when it does. */
export function nonConformance(req: Pick<RecordedRequest, 'method' | 'path' | 'body'>, ops: Operation[]): string | undefined {
  const matches = ops.filter((o) => o.method === req.method && templateRegex(o.template).test(req.path));
  if (!matches.length) {
    const other = ops.filter((o) => templateRegex(o.template).test(req.path)).map((o) => o.method);
    return `${req.method} ${req.path}: ${other.length ? `the vendor defines only ${[...new Set(other)].join(', ')} there` : 'no such path in the vendor definition'}`;
  }
  // The most specific template wins (fewest parameters), as routers do.
  const op = [...matches].sort((a, b) => params(a.template) - params(b.template))[0];
  const body = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
  const missing = op.requiredBody.filter((f) => body[f] === undefined);
  return missing.length ? `${req.method} ${op.template}: body lacks required ${missing.join(', ')}` : undefined;
}

function templateRegex(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\{[^}]+\}/g, '[^/]+')}$`);
}

function params(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}
