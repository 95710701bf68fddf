/** Turns the benchmark's figures into the readable table (stdout) and bench/RESULTS.md. Pure. */

export interface FigureRow {
  /** a..f, as in the issue. */
  key: string;
  measure: string;
  /** drw's figure, formatted, with its unit. */
  value: string;
  /** The baseline measured in the same run, formatted ('' when there is none). */
  baseline: string;
  /** value ÷ baseline, formatted ('' when there is none). */
  ratio: string;
  target: string;
  verdict: 'met' | 'missed' | 'n/a';
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  platform: string;
  arch: string;
  temporalCli?: string;
  /** 1/5/15-minute load averages when the run started and ended (others' work skews the figures). */
  loadAverage?: { start: number[]; end?: number[] };
}

const HEAD: (keyof FigureRow)[] = ['key', 'measure', 'value', 'baseline', 'ratio', 'target', 'verdict'];
const TITLES: Record<keyof FigureRow, string> = { key: '', measure: 'measure', value: 'drw', baseline: 'baseline (same run)', ratio: 'ratio', target: 'target', verdict: 'verdict' };

export function fmt(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  const d = Math.max(0, digits - Math.ceil(Math.log10(abs)));
  return n.toFixed(Math.min(d, 6));
}

export function machineLine(m: Machine): string {
  const load = m.loadAverage ? `, load average ${m.loadAverage.start.map((x) => x.toFixed(1)).join('/')} at start${m.loadAverage.end ? `, ${m.loadAverage.end.map((x) => x.toFixed(1)).join('/')} at end` : ''}` : '';
  return `${m.cpus} × ${m.cpuModel}, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${m.node} (${m.platform}/${m.arch})${m.temporalCli ? `, ${m.temporalCli}` : ''}${load}`;
}

/** A fixed-width text table. */
export function textTable(rows: FigureRow[]): string {
  const cells = [HEAD.map((h) => TITLES[h]), ...rows.map((r) => HEAD.map((h) => String(r[h])))];
  const widths = HEAD.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function markdown(o: { title: string; when: string; scale: number; machine: Machine; rows: FigureRow[]; notes: string[]; details: string[] }): string {
  const head = `| ${HEAD.map((h) => TITLES[h] || '#').join(' | ')} |`;
  const sep = `|${HEAD.map(() => '---').join('|')}|`;
  const body = o.rows.map((r) => `| ${HEAD.map((h) => mdEscape(String(r[h]))).join(' | ')} |`);
  return [
    `# ${o.title}`,
    '',
    `Run ${o.when} with \`BENCH_SCALE=${o.scale}\` on ${machineLine(o.machine)}.`,
    '',
    head,
    sep,
    ...body,
    '',
    ...(o.details.length ? ['## Details', '', ...o.details.map((d) => `- ${d}`), ''] : []),
    ...(o.notes.length ? ['## How it is measured', '', ...o.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}
