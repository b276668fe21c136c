// The Prometheus text exposition format (version 0.0.4), written by hand: a family is its HELP and
// TYPE lines followed by its samples, one per line, label values escaped.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';
export type Labels = Record<string, string>;

export interface Sample {
  /** Appended to the family's name: `_bucket`, `_sum`, `_count` for a histogram. */
  suffix?: string;
  labels?: Labels;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabelValue = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '';
  return `{${entries.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

export function renderExposition(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      lines.push(`${family.name}${sample.suffix ?? ''}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A histogram's samples — cumulative `_bucket`s for each upper bound and `+Inf`, then `_sum` and `_count` — from counts already made: `atMost[i]` observations at most `bounds[i]`, `count` in all, summing to `sum`. */
export function histogramFromCounts(labels: Labels, bounds: readonly number[], atMost: readonly number[], count: number, sum: number): Sample[] {
  return [
    ...bounds.map((bound, i) => ({ suffix: '_bucket', labels: { ...labels, le: formatValue(bound) }, value: atMost[i] ?? 0 })),
    { suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: count },
    { suffix: '_sum', labels, value: sum },
    { suffix: '_count', labels, value: count },
  ];
}
