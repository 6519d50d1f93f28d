// Plain-text tables for people at a terminal (`credits`, `check`, `months`): columns as wide as their widest cell,
// two spaces apart, numbers right-aligned, no trailing blanks.

/** The header, a rule under it when asked, and the rows, one line each; `rightAligned` names the numeric columns. */
export function formatTextTable(header: readonly string[], rows: readonly (readonly string[])[], options: { rightAligned: ReadonlySet<number>; rule?: boolean }): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (options.rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...(options.rule ? [line(widths.map((w) => '-'.repeat(w)))] : []), ...rows.map(line)];
}
