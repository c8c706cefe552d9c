import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from './csv';

describe('CSV', () => {
  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(toCsv([{ a: 1, b: 'x,y' }, { a: 2, b: 'say "hi"\nthere' }], ['a', 'b'])).toBe('a,b\r\n1,"x,y"\r\n2,"say ""hi""\nthere"\r\n');
  });

  it('prefixes text a spreadsheet would run as a formula, never numbers', () => {
    expect(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx'].map(csvCell)).toEqual(["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", `"'\rx"`]);
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(0.25)).toBe('0.25');
  });

  it('writes null and undefined as empty cells and lists joined with "; "', () => {
    expect(toCsv([{ a: null, b: undefined, c: ['x', 'y'], d: false }], ['a', 'b', 'c', 'd'])).toBe('a,b,c,d\r\n,,x; y,false\r\n');
  });
});
