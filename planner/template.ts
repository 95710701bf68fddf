import { getPath } from './conditions';

const WHOLE = /^\{\{\s*([\w.]+)\s*\}\}$/;
const PART = /\{\{\s*([\w.]+)\s*\}\}/g;

/**
 * Fills `{{asset.id}}`-style placeholders in step parameters from the facts. A value that
 * is only a placeholder keeps its type (a number stays a number); missing facts become "".
 */
export function renderParams(params: Record<string, unknown>, ctx: unknown): Record<string, unknown> {
  return render(params, ctx) as Record<string, unknown>;
}

function render(v: unknown, ctx: unknown): unknown {
  if (typeof v === 'string') {
    const whole = WHOLE.exec(v);
    if (whole) {
      const got = getPath(ctx, whole[1]);
      return got === undefined || got === null ? '' : got;
    }
    return v.replace(PART, (_m, path: string) => {
      const got = getPath(ctx, path);
      return got === undefined || got === null ? '' : typeof got === 'object' ? JSON.stringify(got) : String(got);
    });
  }
  if (Array.isArray(v)) return v.map((x) => render(x, ctx));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, render(x, ctx)]));
  }
  return v;
}
