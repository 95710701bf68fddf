import { fmt, machineLine, markdown, textTable, type FigureRow, type Machine } from '../../../bench/report';

const rows: FigureRow[] = [
  { key: 'a', measure: 'remediations completed/s', value: '12.3/s', baseline: '15.0/s', ratio: '0.820', target: '≥ 0.7', verdict: 'met' },
  { key: 'b', measure: 'signal | re-plan p99', value: '250 ms', baseline: '', ratio: '', target: '< 200 ms', verdict: 'missed' },
];
const machine: Machine = { cpus: 2, cpuModel: 'Test CPU', memoryBytes: 8 * 2 ** 30, node: 'v20.0.0', platform: 'linux', arch: 'x64', loadAverage: { start: [1, 2, 3], end: [4, 5, 6] } };

test('fmt keeps three significant digits and groups thousands', () => {
  expect(fmt(0.70312)).toBe('0.703');
  expect(fmt(12.345)).toBe('12.3');
  expect(fmt(154.2)).toBe('154');
  expect(fmt(12345.6)).toBe('12,346');
  expect(fmt(0)).toBe('0');
  expect(fmt(null)).toBe('-');
  expect(fmt(NaN)).toBe('-');
});

test('the text table aligns columns under a header', () => {
  const lines = textTable(rows).split('\n');
  expect(lines).toHaveLength(4);
  expect(lines[0]).toMatch(/measure\s+drw\s+baseline \(same run\)\s+ratio\s+target\s+verdict/);
  const col = lines[0].indexOf('drw');
  expect(lines[2].slice(col, col + 6)).toBe('12.3/s');
  expect(lines[3].slice(col, col + 6)).toBe('250 ms');
});

test('the markdown names the scale and machine, escapes pipes, and lists details and notes', () => {
  const md = markdown({ title: 'drw benchmark results', when: '2025-01-01T00:00:00Z', scale: 0.1, machine, rows, notes: ['how'], details: ['what'] });
  expect(md).toContain('`BENCH_SCALE=0.1`');
  expect(md).toContain(machineLine(machine));
  expect(md).toContain('load average 1.0/2.0/3.0 at start, 4.0/5.0/6.0 at end');
  expect(md).toContain('signal \\| re-plan p99');
  expect(md).toContain('| a | remediations completed/s | 12.3/s | 15.0/s | 0.820 | ≥ 0.7 | met |');
  expect(md).toContain('## Details\n\n- what');
  expect(md).toContain('## How it is measured\n\n- how');
});
