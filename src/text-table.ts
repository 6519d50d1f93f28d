// Plain-text tables for people at a terminal (`credits`, `check`, `months`): columns as wide as their widest cell,
// two spaces apart, numbers right-aligned, no trailing blanks.
import { at } from './sla/at.js';

/** The header, a rule under it when asked, and the rows, one line each; `rightAligned` names the numeric columns. */
export function formatTextTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: { rightAligned: ReadonlySet<number>; rule?: boolean },
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => at(r, i, 'table cell').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) =>
        options.rightAligned.has(i)
          ? c.padStart(at(widths, i, 'table column'))
          : c.padEnd(at(widths, i, 'table column')),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...(options.rule ? [line(widths.map((w) => '-'.repeat(w)))] : []), ...rows.map(line)];
}
