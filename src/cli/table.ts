/** Aligned text tables for the terminal. */

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string | number | null;
  readonly align?: 'left' | 'right';
  /** Never shortened: a value operators copy (an event id). */
  readonly whole?: boolean;
}

const GAP = '  ';
/** A shortened column keeps at least this many characters (the last one being `…`). */
const MIN_WIDTH = 4;

/** Characters as the terminal counts them (code points, not UTF-16 units). */
const length = (text: string) => [...text].length;

/** `text` cut to `width` characters, the last one `…` when anything was cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 1 ? '…'.slice(0, width) : `${chars.slice(0, width - 1).join('')}…`;
}

/**
 * The rows under a header, columns aligned, each line ending with a newline. With `width` (a
 * terminal's), the widest columns are shortened, a character at a time, until a line fits;
 * without, every value is shown whole (a pipe, a file). Empty values show as `-`.
 */
export function renderTable<Row>(
  columns: ReadonlyArray<Column<Row>>,
  rows: readonly Row[],
  width?: number,
): string {
  const cells = rows.map((row) =>
    columns.map((column) => {
      const value = column.value(row);
      return value === null || value === '' ? '-' : String(value).replace(/[\r\n\t]+/g, ' ');
    }),
  );
  const widths = columns.map((column, i) =>
    Math.max(length(column.header), ...cells.map((line) => length(line[i]!))),
  );
  if (width !== undefined) fit(widths, columns, width);
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => {
        const cell = truncate(value, widths[i]!);
        const pad = ' '.repeat(widths[i]! - length(cell));
        if (i === values.length - 1 && columns[i]!.align !== 'right') return cell;
        return columns[i]!.align === 'right' ? pad + cell : cell + pad;
      })
      .join(GAP);
  return [line(columns.map((column) => column.header)), ...cells.map(line)]
    .map((text) => `${text}\n`)
    .join('');
}

/** Shortens the widest shortenable column until the line fits `width` or nothing can give. */
function fit<Row>(widths: number[], columns: ReadonlyArray<Column<Row>>, width: number): void {
  let total = widths.reduce((sum, w) => sum + w, 0) + GAP.length * (widths.length - 1);
  while (total > width) {
    let widest = -1;
    widths.forEach((w, i) => {
      if (!columns[i]!.whole && w > MIN_WIDTH && (widest === -1 || w > widths[widest]!)) widest = i;
    });
    if (widest === -1) return;
    widths[widest]! -= 1;
    total -= 1;
  }
}

/** A table on `out`, cut to the terminal's width when it is one, whole otherwise. */
export function printTable<Row>(
  out: { write(text: string): void; readonly isTTY: boolean; readonly columns: number | undefined },
  columns: ReadonlyArray<Column<Row>>,
  rows: readonly Row[],
): void {
  out.write(renderTable(columns, rows, out.isTTY ? out.columns : undefined));
}
