/**
 * Channel names as the planner writes them ("secops", "#sec-ops", "SecOps") and as an
 * environment variable suffix can spell them (SLACK_WEBHOOK_URL_SEC_OPS) meet in one form.
 */
export function normalizeChannel(name: string): string {
  return name
    .trim()
    .replace(/^#/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

