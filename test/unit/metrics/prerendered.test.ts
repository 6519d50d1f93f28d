// The family kept as encoded text with each key's place in it must render exactly what joining every key's latest
// lines renders: the obviously right form, checked against random sequences of sets and scrapes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PrerenderedGaugeFamily, renderLabels, renderValue } from '../../../src/metrics/prerendered.js';

/** The family as it was kept before: every key's lines as a string, joined for each scrape. */
class JoinedFamily {
  private readonly byKey = new Map<string, string>();
  constructor(
    private readonly name: string,
    private readonly help: string,
  ) {}
  setMany(key: string, series: readonly (readonly [string, number])[]) {
    this.byKey.set(key, series.map(([labels, value]) => `${this.name}{${labels}} ${renderValue(value)}\n`).join(''));
  }
  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n${[...this.byKey.values()].join('')}`;
  }
}

// Few keys and label values, some with multi-byte characters, so keys are set again and lengths in bytes differ.
const key = fc.constantFrom('s1', 's2', 's3', 'zażółć', 's5', 'ünï', 's7');
const value = fc.oneof(fc.constantFrom(0, 1, 0.5, 99.95, Number.NaN, Infinity), fc.integer());
const step = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value }),
  fc.record({
    kind: fc.constant('setMany' as const),
    key,
    series: fc.array(fc.tuple(fc.constantFrom('a', 'bę', 'c'), value), { maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('render' as const) }),
);

describe('prerendered gauge family', () => {
  it('renders byte for byte what joining the latest lines of every key renders, after any sets and scrapes', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const family = new PrerenderedGaugeFamily('m', 'help');
        const reference = new JoinedFamily('m', 'help');
        let lastRendered: Buffer | undefined;
        let lastText = '';
        for (const s of [...steps, { kind: 'render' as const }]) {
          if (s.kind === 'set') {
            const labels = renderLabels({ server: s.key });
            family.set(labels, s.value);
            reference.setMany(labels, [[labels, s.value]]);
          } else if (s.kind === 'setMany') {
            const series = s.series.map(([k, v]) => [renderLabels({ server: s.key, bracket: k }), v] as const);
            family.setMany(s.key, series);
            reference.setMany(s.key, series);
          } else {
            const rendered = family.render();
            expect(rendered.toString('utf8')).toBe(reference.render());
            // A render handed to a scrape is never written again.
            if (lastRendered) expect(lastRendered.toString('utf8')).toBe(lastText);
            lastRendered = rendered;
            lastText = rendered.toString('utf8');
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a family nothing changed in returns the same buffer; setting a value it already has changes nothing', () => {
    const family = new PrerenderedGaugeFamily('probe_success', 'Whether the last probe succeeded.');
    family.set('server="a"', 1);
    family.set('server="b"', 0);
    const first = family.render();
    expect(first.toString()).toBe(
      '# HELP probe_success Whether the last probe succeeded.\n# TYPE probe_success gauge\nprobe_success{server="a"} 1\nprobe_success{server="b"} 0\n',
    );
    family.set('server="a"', 1);
    expect(family.render()).toBe(first);
    family.set('server="b"', 1);
    family.set('server="b"', 0); // back to what was rendered before the next scrape
    expect(family.render().toString()).toBe(first.toString());
  });

  it('writes a render into earlier memory only when no scrape holds any: a held answer never changes', () => {
    const held = fc.oneof(
      { arbitrary: step, weight: 4 },
      { arbitrary: fc.record({ kind: fc.constant('release' as const), which: fc.nat() }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant('render' as const) }), weight: 2 },
    );
    fc.assert(
      fc.property(fc.array(held, { minLength: 10, maxLength: 80, size: 'large' }), (steps) => {
        const family = new PrerenderedGaugeFamily('m', 'help');
        const reference = new JoinedFamily('m', 'help');
        // What each scrape still holding its answer was sent, as the scrape sees it.
        const holds: { buffer: Buffer; text: string }[] = [];
        for (const s of steps) {
          if (s.kind === 'set') {
            const labels = renderLabels({ server: s.key });
            family.set(labels, s.value);
            reference.setMany(labels, [[labels, s.value]]);
          } else if (s.kind === 'setMany') {
            const series = s.series.map(([k, v]) => [renderLabels({ server: s.key, bracket: k }), v] as const);
            family.setMany(s.key, series);
            reference.setMany(s.key, series);
          } else if (s.kind === 'release') {
            if (holds.length > 0) holds.splice(s.which % holds.length, 1);
          } else {
            const rendered = family.render(holds.length === 0);
            expect(rendered.toString('utf8')).toBe(reference.render());
            holds.push({ buffer: rendered, text: rendered.toString('utf8') });
          }
          for (const hold of holds) expect(hold.buffer.toString('utf8')).toBe(hold.text);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('with no scrape holding an answer, renders take turns in two pieces of memory', () => {
    const family = new PrerenderedGaugeFamily('m', 'help');
    const renderWith = (value: number, reuse: boolean) => {
      family.set('server="a"', value);
      return family.render(reuse);
    };
    const first = renderWith(1, true);
    const second = renderWith(2, true);
    const third = renderWith(3, true);
    expect(third.buffer).toBe(first.buffer); // the memory of the render before the last
    expect(second.buffer).not.toBe(first.buffer);
    expect(third.toString()).toBe('# HELP m help\n# TYPE m gauge\nm{server="a"} 3\n');
    // While one is held, a render takes new memory.
    const fourth = renderWith(4, false);
    expect([first.buffer, second.buffer]).not.toContain(fourth.buffer);
    expect(third.toString()).toBe('# HELP m help\n# TYPE m gauge\nm{server="a"} 3\n');
  });
});
