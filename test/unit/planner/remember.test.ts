import { rememberByText } from '../../../planner/remember';

describe('rememberByText', () => {
  it('computes a text once and answers the same afterwards', () => {
    const seen: string[] = [];
    const upper = rememberByText((text) => {
      seen.push(text);
      return text.toUpperCase();
    });
    expect(upper('a')).toBe('A');
    expect(upper('b')).toBe('B');
    expect(upper('a')).toBe('A');
    expect(seen).toEqual(['a', 'b']);
  });

  it('keeps at most the number it is given, and still answers correctly after forgetting', () => {
    const seen: string[] = [];
    const echo = rememberByText((text) => {
      seen.push(text);
      return `<${text}>`;
    }, 2);
    for (const t of ['a', 'b', 'c', 'a']) expect(echo(t)).toBe(`<${t}>`);
    // 'c' arrived with two kept: the memory was emptied, so 'a' is computed again.
    expect(seen).toEqual(['a', 'b', 'c', 'a']);
  });
});
