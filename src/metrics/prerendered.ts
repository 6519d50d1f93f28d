// Gauge families with one series per server or check, kept as exposition text rendered when a value changes.
import { deflatePart, type DeflatedPart } from './gzip-parts.js';

// prom-client formats every series on every scrape (label escaping, sorting, number formatting); at 10,000
// servers that is ~180,000 series and ~300 ms per scrape. Here each series' value is kept as a number beside the
// bytes last rendered for it: setting the value it already has costs a comparison, and a scrape only sends pages
// already rendered (or renders the few that changed since), as they are or deflated once for gzip.

/** Escapes a label value for the text exposition format (backslash, double quote, newline). */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** `a="x",b="y"` for the given label names and values, in that order. */
export function renderLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(',');
}

/** A sample value as the exposition format writes it (as prom-client does). */
export function renderValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Keys per page. A page is one buffer of the exposition, rendered again whole when any of its series changed. */
const KEYS_PER_PAGE = 512;

/** The series of a key with a single series: its labels are the key's own. */
const SINGLE: readonly string[] = [''];

/** What a series' bytes in its page's text still say. */
const CLEAN = 0;
/** The labels are as rendered; the value is new. */
const NEW_VALUE = 1;
/** New, or its labels changed: the whole line is written from its strings. */
const NEW_LINE = 2;

/** Whether two values render alike: NaN is its own value here (it renders the same every time), 0 and -0 are one. */
const sameValue = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

/**
 * Up to KEYS_PER_PAGE consecutive keys of a family, their series in slots (key by key, in order), and the page's
 * text as last rendered. A slot's offsets always refer to that text; a new text is a new buffer, so one already
 * handed to a scrape is never written again.
 */
class Page {
  /** Each key's label text (the key itself). */
  readonly keys: string[] = [];
  /** Each key's series: label text following the key's, one per series. */
  private readonly suffixes: (readonly string[])[] = [];
  /** The slots of key k are firstSlot[k] up to firstSlot[k + 1]. */
  readonly firstSlot: number[] = [0];
  private values = new Float64Array(16);
  /** Where each slot's line starts in `text`, the bytes of its `name{labels} `, and the whole line's. */
  private lineStart = new Int32Array(16);
  private prefixLength = new Int32Array(16);
  private lineLength = new Int32Array(16);
  /** CLEAN, NEW_VALUE or NEW_LINE. */
  private state = new Uint8Array(16);
  private text: Buffer = Buffer.alloc(0);
  private changed = false;
  /** `text` deflated, once asked for (a gzip scrape, or a refresh preparing its pages); dropped when the text changes. */
  private deflatedText: DeflatedPart | undefined;

  get slots(): number {
    return this.firstSlot[this.keys.length] as number;
  }

  /** Adds a key at the end with new series, one per suffix. */
  append(key: string, suffixes: readonly string[]): void {
    const end = this.slots;
    this.keys.push(key);
    this.suffixes.push(suffixes);
    this.firstSlot.push(end);
    this.resize(this.keys.length - 1, suffixes.length);
  }

  /** Gives key k `count` slots, all new; the other keys' slots keep what they had. */
  private resize(k: number, count: number): void {
    const from = this.firstSlot[k] as number;
    const to = this.firstSlot[k + 1] as number;
    const delta = count - (to - from);
    const total = this.slots + delta;
    if (delta !== 0) {
      const used = this.slots;
      // Grown by doubling, as keys are appended one by one.
      const capacity = total > this.values.length ? Math.max(total, this.values.length * 2) : this.values.length;
      this.values = shifted(this.values, capacity, to, delta, used);
      this.lineStart = shifted(this.lineStart, capacity, to, delta, used);
      this.prefixLength = shifted(this.prefixLength, capacity, to, delta, used);
      this.lineLength = shifted(this.lineLength, capacity, to, delta, used);
      this.state = shifted(this.state, capacity, to, delta, used);
      for (let j = k + 1; j < this.firstSlot.length; j++) this.firstSlot[j] = (this.firstSlot[j] as number) + delta;
    }
    this.state.fill(NEW_LINE, from, from + count);
    this.changed = true;
  }

  /** Gives key k these series (label suffixes): the same as before costs a comparison, the array's when kept. */
  relabel(k: number, suffixes: readonly string[]): void {
    const last = this.suffixes[k] as readonly string[];
    if (last === suffixes) return;
    this.suffixes[k] = suffixes;
    if (last.length !== suffixes.length) {
      this.resize(k, suffixes.length);
      return;
    }
    const first = this.firstSlot[k] as number;
    for (let i = 0; i < suffixes.length; i++)
      if (suffixes[i] !== last[i]) {
        this.state[first + i] = NEW_LINE;
        this.changed = true;
      }
  }

  /** Sets slot s to `value`, noting it for the next render if it differs from the value rendered. */
  setValue(s: number, value: number): void {
    if (this.state[s] === NEW_LINE) {
      this.values[s] = value;
    } else if (!sameValue(this.values[s] as number, value)) {
      this.values[s] = value;
      this.state[s] = NEW_VALUE;
      this.changed = true;
    }
  }

  /** The page's text, rendered again if anything changed: unchanged lines are copied, changed ones written. */
  render(name: string): Buffer {
    if (!this.changed) return this.text;
    const slots = this.slots;
    // The text each changed slot needs: its value's, and for a new line its `name{labels} ` too.
    const valueTexts = new Array<string>(slots);
    const prefixes = new Map<number, string>();
    let size = 0;
    for (let k = 0; k < this.keys.length; k++) {
      const suffixes = this.suffixes[k] as readonly string[];
      const first = this.firstSlot[k] as number;
      for (let s = first; s < (this.firstSlot[k + 1] as number); s++) {
        const state = this.state[s];
        if (state === CLEAN) {
          size += this.lineLength[s] as number;
          continue;
        }
        const value = renderValue(this.values[s] as number);
        valueTexts[s] = value;
        if (state === NEW_LINE) {
          const prefix = `${name}{${this.keys[k]}${suffixes[s - first]}} `;
          prefixes.set(s, prefix);
          this.prefixLength[s] = Buffer.byteLength(prefix);
        }
        size += (this.prefixLength[s] as number) + value.length + 1;
      }
    }
    const last = this.text;
    const next = Buffer.allocUnsafe(size);
    let at = 0;
    // Clean lines that lie one after the other in the last text are copied as one run.
    let runFrom = 0;
    let runLength = 0;
    for (let s = 0; s < slots; s++) {
      const state = this.state[s];
      if (state === CLEAN) {
        const start = this.lineStart[s] as number;
        if (runLength > 0 && start !== runFrom + runLength) {
          at += last.copy(next, at, runFrom, runFrom + runLength);
          runLength = 0;
        }
        if (runLength === 0) runFrom = start;
        this.lineStart[s] = at + runLength;
        runLength += this.lineLength[s] as number;
        continue;
      }
      if (runLength > 0) {
        at += last.copy(next, at, runFrom, runFrom + runLength);
        runLength = 0;
      }
      const lineStart = at;
      const prefixLength = this.prefixLength[s] as number;
      if (state === NEW_LINE) next.write(prefixes.get(s) as string, at, 'utf8');
      else copyBytes(last, this.lineStart[s] as number, prefixLength, next, at);
      at += prefixLength;
      const value = valueTexts[s] as string;
      // Values are ASCII (digits, sign, point, exponent, NaN, Inf).
      for (let i = 0; i < value.length; i++) next[at++] = value.charCodeAt(i);
      next[at++] = 0x0a;
      this.lineStart[s] = lineStart;
      this.lineLength[s] = at - lineStart;
      this.state[s] = CLEAN;
    }
    if (runLength > 0) at += last.copy(next, at, runFrom, runFrom + runLength);
    this.text = next;
    this.changed = false;
    this.deflatedText = undefined;
    return next;
  }

  /** The page's text deflated (rendered again first if anything changed). */
  deflated(name: string): DeflatedPart {
    const text = this.render(name);
    this.deflatedText ??= deflatePart(text);
    return this.deflatedText;
  }
}

/** `array`'s first `used` elements, those from `from` on moved by `delta`: in place, or in a new array of `capacity`. */
function shifted<T extends Float64Array | Int32Array | Uint8Array>(
  array: T,
  capacity: number,
  from: number,
  delta: number,
  used: number,
): T {
  if (capacity === array.length) {
    array.copyWithin(from + delta, from, used);
    return array;
  }
  const grown = new (array.constructor as new (length: number) => T)(capacity);
  grown.set(array.subarray(0, from));
  grown.set(array.subarray(from, used), from + delta);
  return grown;
}

/** Copies `length` bytes; short runs (a line's labels) by hand, as a native copy costs more than it moves. */
function copyBytes(source: Buffer, from: number, length: number, target: Buffer, at: number): void {
  if (length > 64) {
    source.copy(target, at, from, from + length);
    return;
  }
  for (let i = 0; i < length; i++) target[at + i] = source[from + i] as number;
}

/**
 * One gauge family whose series are grouped by a key (a server, a check); the key is the label text its series
 * begin with, and a key's series are replaced together. Keys keep the order they were first set in.
 */
export class PrerenderedGaugeFamily {
  readonly name: string;
  private readonly header: Buffer;
  private deflatedHeader: DeflatedPart | undefined;
  private readonly pages: Page[] = [];
  /** Each key's place in the order of the family. */
  private readonly indexOf = new Map<string, number>();

  /** `keysPerPage` is for tests, which need many pages from few keys. */
  constructor(
    name: string,
    help: string,
    private readonly keysPerPage = KEYS_PER_PAGE,
  ) {
    this.name = name;
    this.header = Buffer.from(
      `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} gauge\n`,
    );
  }

  /** Sets the single series whose labels are `key` (label text as renderLabels renders it). */
  set(key: string, value: number): void {
    const index = this.place(key, SINGLE);
    const page = this.pageOf(index);
    page.setValue(page.firstSlot[index % this.keysPerPage] as number, value);
  }

  /**
   * Replaces all series of `key`: series i has the labels `key` followed by `suffixes[i]` (`,window="1h"`) and the
   * value `values[i]`. Passing the same strings each time (cached) makes the comparison with the last ones cheap.
   */
  setMany(key: string, suffixes: readonly string[], values: readonly number[]): void {
    if (suffixes.length !== values.length)
      throw new Error(`${this.name}: ${suffixes.length} label suffixes for ${values.length} values`);
    const index = this.place(key, suffixes);
    const page = this.pageOf(index);
    const first = page.firstSlot[index % this.keysPerPage] as number;
    for (let i = 0; i < values.length; i++) page.setValue(first + i, values[i] as number);
  }

  /** Renders and deflates the pages changed since the last time (a scrape would do it otherwise). */
  prepareChanged(): void {
    for (const page of this.pages) page.deflated(this.name);
  }

  /** The family as exposition text (UTF-8) in chunks: HELP and TYPE, then each page of series. */
  chunks(): Buffer[] {
    return [this.header, ...this.pages.map((page) => page.render(this.name))];
  }

  /** The same text as `chunks`, each chunk deflated as a part of a gzip member (gzip-parts.ts). */
  deflatedParts(): DeflatedPart[] {
    this.deflatedHeader ??= deflatePart(this.header);
    return [this.deflatedHeader, ...this.pages.map((page) => page.deflated(this.name))];
  }

  /** `key`'s place in the family (added at the end if new), its slots laid out for `suffixes`. */
  private place(key: string, suffixes: readonly string[]): number {
    const index = this.indexOf.get(key);
    if (index !== undefined) {
      this.pageOf(index).relabel(index % this.keysPerPage, suffixes);
      return index;
    }
    let page = this.pages[this.pages.length - 1];
    if (page === undefined || page.keys.length === this.keysPerPage) {
      page = new Page();
      this.pages.push(page);
    }
    page.append(key, suffixes);
    this.indexOf.set(key, this.indexOf.size);
    return this.indexOf.size - 1;
  }

  /** The page the key at `index` lies in. */
  private pageOf(index: number): Page {
    return this.pages[Math.floor(index / this.keysPerPage)] as Page;
  }
}
