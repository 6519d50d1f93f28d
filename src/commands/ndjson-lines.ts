// Reads a text file line by line with a bound on line length, so one huge line cannot exhaust memory.
import { createReadStream } from 'node:fs';

/** The longest line kept, in bytes (1 MiB): a longer line is skipped without being held in memory. */
export const MAX_LINE_BYTES = 1_048_576;

/** One line of the file, numbered from 1: its text, or only its length when it was longer than the bound. */
export type BoundedLine = { lineNumber: number; text: string } | { lineNumber: number; tooLongBytes: number };

const LF = 0x0a;
const CR = 0x0d;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The lines of the file at `path`, split as node:readline splits them with `crlfDelay: Infinity` (a line ends at
 * \n, \r\n or \r; no empty line after a final line break), decoded as UTF-8. A UTF-8 byte-order mark at the start
 * of the file is dropped. A line longer than `maxLineBytes` (terminator not counted) is not buffered: its bytes
 * are counted and dropped until its end, then it comes back as `tooLongBytes`. Memory stays within about
 * `maxLineBytes` plus one read chunk, whatever the file holds. `onRead` hears the size of each chunk read (progress).
 */
export async function* readBoundedLines(
  path: string,
  { maxLineBytes = MAX_LINE_BYTES, onRead }: { maxLineBytes?: number; onRead?: (bytes: number) => void } = {},
): AsyncGenerator<BoundedLine> {
  let pieces: Buffer[] = [];
  let lineBytes = 0;
  let tooLong = false;
  let lineNumber = 0;
  // The previous chunk ended with \r: a \n at the start of the next one ends no second line.
  let afterCr = false;
  // The file's first bytes, held until there are enough to tell whether they are a byte-order mark.
  let head: Buffer | undefined = Buffer.alloc(0);

  const append = (part: Buffer) => {
    if (part.length === 0) return;
    lineBytes += part.length;
    if (tooLong) return;
    if (lineBytes > maxLineBytes) {
      tooLong = true;
      pieces = [];
      return;
    }
    pieces.push(part);
  };
  const endLine = (): BoundedLine => {
    lineNumber++;
    const line: BoundedLine = tooLong
      ? { lineNumber, tooLongBytes: lineBytes }
      : { lineNumber, text: Buffer.concat(pieces, lineBytes).toString('utf8') };
    pieces = [];
    lineBytes = 0;
    tooLong = false;
    return line;
  };
  // The lines a chunk completes; what follows its last line break stays in `pieces` for the next chunk.
  const split = (data: Buffer): BoundedLine[] => {
    const lines: BoundedLine[] = [];
    let start = 0;
    if (afterCr) {
      afterCr = false;
      if (data[0] === LF) start = 1;
    }
    // Each search runs once per chunk and again only after passing its hit: a chunk without \r is scanned once.
    let nextLf = data.indexOf(LF, start);
    let nextCr = data.indexOf(CR, start);
    for (;;) {
      if (nextLf >= 0 && nextLf < start) nextLf = data.indexOf(LF, start);
      if (nextCr >= 0 && nextCr < start) nextCr = data.indexOf(CR, start);
      const end = nextLf < 0 ? nextCr : nextCr < 0 ? nextLf : Math.min(nextLf, nextCr);
      if (end < 0) break;
      append(data.subarray(start, end));
      lines.push(endLine());
      start = end + 1;
      if (data[end] === CR) {
        if (start === data.length) afterCr = true;
        else if (data[start] === LF) start++;
      }
    }
    append(data.subarray(start));
    return lines;
  };
  const withoutBom = (data: Buffer) =>
    data.subarray(0, UTF8_BOM.length).equals(UTF8_BOM) ? data.subarray(UTF8_BOM.length) : data;

  for await (const chunk of createReadStream(path)) {
    let data = chunk as Buffer;
    onRead?.(data.length);
    if (head) {
      head = Buffer.concat([head, data]);
      if (head.length < UTF8_BOM.length) continue;
      data = withoutBom(head);
      head = undefined;
    }
    yield* split(data);
  }
  if (head) yield* split(withoutBom(head)); // a file shorter than a byte-order mark
  if (lineBytes > 0) yield endLine(); // the last line, without a line break after it
}
