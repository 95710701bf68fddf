import type { Severity } from '../../../domain/detection';
import type { NotifyInput } from '../../interfaces';

const SEVERITY_MARK: Record<Severity, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_blue_circle:',
  info: ':white_circle:',
};

// Slack's documented limits: section text 3000, a field 2000, 10 fields a section, 50 blocks.
const SECTION_TEXT_MAX = 3000;
const FIELD_MAX = 2000;
const FIELDS_PER_SECTION = 10;
const MAX_FIELD_SECTIONS = 4;

/** Detection text is attacker-influenced: escaping stops it from pinging @channel or forging links. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

export function buildSlackMessage(input: NotifyInput): SlackMessage {
  const headline = `${SEVERITY_MARK[input.severity]} *${input.severity.toUpperCase()}* ${escapeMrkdwn(input.text)}`;
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(headline, SECTION_TEXT_MAX) } }];

  const fields = Object.entries(input.fields ?? {}).map(([k, v]) => ({
    type: 'mrkdwn',
    text: clip(`*${escapeMrkdwn(k)}*\n${escapeMrkdwn(String(v))}`, FIELD_MAX),
  }));
  for (let i = 0; i < fields.length && i / FIELDS_PER_SECTION < MAX_FIELD_SECTIONS; i += FIELDS_PER_SECTION) {
    blocks.push({ type: 'section', fields: fields.slice(i, i + FIELDS_PER_SECTION) });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(`drw remediation \`${escapeMrkdwn(input.remediationId)}\``, FIELD_MAX) }] });

  // `text` is the notification and fallback line; Slack parses it as mrkdwn too.
  return { text: clip(`[${input.severity}] ${escapeMrkdwn(input.text)}`, SECTION_TEXT_MAX), blocks };
}
