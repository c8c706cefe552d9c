/**
 * The one CSV writer (RFC 4180, CRLF lines) every CSV export uses. Text a spreadsheet would
 * run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'`;
 * numbers and booleans are written as they are, null and undefined as an empty cell.
 */

/**
 * One CSV cell.
 * @example csvCell('=SUM(A1)') // "'=SUM(A1)"
 * @example csvCell('x,"y"') // '"x,""y"""'
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  let s = Array.isArray(v) ? v.join('; ') : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Rows as CSV with a header line, in the order of `columns`.
 * @example toCsv([{ a: 1, b: 'x,y' }], ['a', 'b']) // 'a,b\r\n1,"x,y"\r\n'
 */
export function toCsv<T extends object>(rows: readonly T[], columns: readonly (keyof T & string)[]): string {
  return [columns.join(','), ...rows.map((r) => columns.map((k) => csvCell(r[k])).join(','))].map((l) => l + '\r\n').join('');
}
