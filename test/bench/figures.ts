// The figures a benchmark run reports: one `name value unit` line each, collected for the JSON file.

/** One measured number. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
}

/** Collects figures and prints each as it arrives, so a long run shows progress. */
export class FigureLog {
  readonly figures: Figure[] = [];

  add(name: string, value: number, unit: string): void {
    const rounded = Number.isInteger(value) ? value : Number(value.toPrecision(4));
    this.figures.push({ name, value: rounded, unit });
    console.log(`${name} ${rounded} ${unit}`);
  }
}

/** The p-th percentile (nearest rank) of unsorted numbers; 0 for none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Resolves after `ms` (bench pacing only). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
