// The family kept as numbers beside pages of encoded text must render exactly what joining every key's latest lines
// renders (the obviously right form), plain or gzip-compressed, checked against random sequences of sets, renders and
// scrapes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { gzipMember } from '../../../src/metrics/gzip-parts.js';
import { PrerenderedGaugeFamily, renderLabels, renderValue } from '../../../src/metrics/prerendered.js';

/** The family as it was first kept: every key's lines as a string, joined for each scrape. */
class JoinedFamily {
  private readonly byKey = new Map<string, string>();
  constructor(
    private readonly name: string,
    private readonly help: string,
  ) {}
  setMany(key: string, suffixes: readonly string[], values: readonly number[]) {
    this.byKey.set(
      key,
      values.map((value, i) => `${this.name}{${key}${suffixes[i]}} ${renderValue(value)}\n`).join(''),
    );
  }
  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n${[...this.byKey.values()].join('')}`;
  }
}

// Few keys and label values, some with multi-byte characters, so keys are set again and lengths in bytes differ.
const key = fc.constantFrom('s1', 's2', 's3', 'zażółć', 's5', 'ünï', 's7');
const value = fc.oneof(fc.constantFrom(0, 1, 0.5, 99.95, -0, 1e-7, Number.NaN, Infinity, -Infinity), fc.integer());
/** Suffix lists the caller keeps (the same array each time) beside fresh copies equal to them or not. */
const KEPT = [[',w="a"'], [',w="a"', ',w="bę"'], [',w="a"', ',w="bę"', ',w="c"'], [',tier="złoty"'], ['']];
const suffixes = fc.oneof(
  fc.constantFrom(...KEPT),
  fc.constant([]), // a key left without series: the lines around it meet in the page but not in its last text
  fc.constantFrom(...KEPT).map((kept) => [...kept]),
  fc.array(fc.constantFrom(',w="a"', ',w="bę"', ',w="c"', ''), { maxLength: 3 }),
);
const step = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value }),
  fc.record({
    kind: fc.constant('setMany' as const),
    key,
    suffixes,
    values: fc.array(value, { minLength: 3, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('prepareChanged' as const) }),
  fc.record({ kind: fc.constant('scrape' as const) }),
  fc.record({ kind: fc.constant('gzipScrape' as const) }),
);

describe('prerendered gauge family', () => {
  it('renders byte for byte what joining the latest lines of every key renders, after any sets and scrapes', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), fc.integer({ min: 1, max: 4 }), (steps, keysPerPage) => {
        const family = new PrerenderedGaugeFamily('m', 'help', keysPerPage);
        const reference = new JoinedFamily('m', 'help');
        // Every chunk handed to a scrape, with its text then: none is ever written again.
        const handedOut: [Buffer, string][] = [];
        for (const s of [...steps, { kind: 'scrape' as const }]) {
          if (s.kind === 'set') {
            const labels = renderLabels({ server: s.key });
            family.set(labels, s.value);
            reference.setMany(labels, [''], [s.value]);
          } else if (s.kind === 'setMany') {
            const labels = renderLabels({ server: s.key });
            const values = s.values.slice(0, s.suffixes.length);
            family.setMany(labels, s.suffixes, values);
            reference.setMany(labels, s.suffixes, values);
          } else if (s.kind === 'prepareChanged') {
            family.prepareChanged();
          } else if (s.kind === 'gzipScrape') {
            const member = Buffer.concat(gzipMember(family.deflatedParts()));
            expect(gunzipSync(member).toString('utf8')).toBe(reference.render());
          } else {
            const chunks = family.chunks();
            expect(Buffer.concat(chunks).toString('utf8')).toBe(reference.render());
            for (const chunk of chunks) handedOut.push([chunk, chunk.toString('utf8')]);
            for (const [chunk, text] of handedOut) expect(chunk.toString('utf8')).toBe(text);
          }
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('a family nothing changed in returns the same buffers; setting a value it already has changes nothing', () => {
    const family = new PrerenderedGaugeFamily('probe_success', 'Whether the last probe succeeded.');
    family.set('server="a"', 1);
    family.set('server="b"', 0);
    const first = family.chunks();
    expect(Buffer.concat(first).toString()).toBe(
      '# HELP probe_success Whether the last probe succeeded.\n# TYPE probe_success gauge\nprobe_success{server="a"} 1\nprobe_success{server="b"} 0\n',
    );
    family.set('server="a"', 1);
    family.set('server="b"', 0);
    family.setMany('server="b"', [''], [0]); // the same single series, set the other way
    const second = family.chunks();
    expect(second).toHaveLength(first.length);
    for (const [i, chunk] of second.entries()) expect(chunk).toBe(first[i]);
  });

  it('renders only the pages whose series changed, and renders a page once for any number of scrapes', () => {
    const family = new PrerenderedGaugeFamily('m', 'help', 2);
    for (const server of ['a', 'b', 'c', 'd', 'e']) family.set(`server="${server}"`, 1);
    family.prepareChanged();
    const [header, ...pages] = family.chunks();
    expect(pages.map((page) => page.toString())).toEqual([
      'm{server="a"} 1\nm{server="b"} 1\n',
      'm{server="c"} 1\nm{server="d"} 1\n',
      'm{server="e"} 1\n',
    ]);
    family.set('server="d"', 0.25);
    const after = family.chunks();
    expect(after[0]).toBe(header);
    expect(after[1]).toBe(pages[0]);
    expect(after[2]?.toString()).toBe('m{server="c"} 1\nm{server="d"} 0.25\n');
    expect(after[3]).toBe(pages[2]);
    expect(family.chunks()[2]).toBe(after[2]);
  });

  it('refuses a number of values that differs from the number of series', () => {
    const family = new PrerenderedGaugeFamily('m', 'help');
    expect(() => family.setMany('server="a"', [',w="1"', ',w="2"'], [1])).toThrow('m: 2 label suffixes for 1 values');
  });
});
