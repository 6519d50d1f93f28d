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
    /** The key a single-series `set` of this key uses: one key set both ways, its value then its lines or back. */
    sharedWithSet: fc.boolean(),
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
            const key = s.sharedWithSet ? renderLabels({ server: s.key }) : s.key;
            family.setMany(key, series);
            reference.setMany(key, series);
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
});
