/**
 * Atlassian Document Format: API v3 rejects plain strings for description and comment bodies
 * ("Operation value must be an Atlassian Document").
 */

export interface AdfNode {
  type: string;
  text?: string;
  content?: AdfNode[];
  marks?: { type: string; attrs?: Record<string, string> }[];
  attrs?: Record<string, unknown>;
}
export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

/** Blank lines separate paragraphs, single newlines become hard breaks; ADF forbids empty text nodes. */
export function paragraphs(text: string): AdfNode[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block) => {
      const content: AdfNode[] = [];
      block.split('\n').forEach((line, i) => {
        if (i > 0) content.push({ type: 'hardBreak' });
        if (line) content.push({ type: 'text', text: line });
      });
      return { type: 'paragraph', content };
    });
}

export function linkParagraph(label: string, href: string): AdfNode {
  return {
    type: 'paragraph',
    content: [
      { type: 'text', text: `${label}: ` },
      { type: 'text', text: href, marks: [{ type: 'link', attrs: { href } }] },
    ],
  };
}

/** The idempotency marker, as inline code so it reads as machine data, not prose. */
export function markerParagraph(marker: string): AdfNode {
  return { type: 'paragraph', content: [{ type: 'text', text: marker, marks: [{ type: 'code' }] }] };
}

export function doc(...content: AdfNode[]): AdfDoc {
  return { type: 'doc', version: 1, content: content.length ? content : [{ type: 'paragraph', content: [] }] };
}

/** Whether a document (or any JSON a vendor returned) carries the marker text. */
export function containsMarker(body: unknown, marker: string): boolean {
  if (body == null) return false;
  if (typeof body === 'string') return body.includes(marker);
  // Compare in JSON-escaped form so keys with quotes or backslashes still match.
  return JSON.stringify(body).includes(JSON.stringify(marker).slice(1, -1));
}

/** Bracketed so that the marker of step "s1" is not found inside the one of step "s10". */
export function idempotencyMarker(idempotencyKey: string): string {
  return `[drw-ref:${idempotencyKey}]`;
}
