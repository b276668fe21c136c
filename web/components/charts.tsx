// Small charts drawn as plain SVG: stacked columns (spend per day, the duration histogram) and
// horizontal bars (spend per agent, success rates). Colours come from the stylesheet through classes,
// so the charts follow the light and dark themes.

export interface Segment {
  key: string;
  value: number;
}

export interface Column {
  label: string;
  segments: Segment[];
}

const SERIES_CLASSES = 6;

/** A stable colour class per series key, in the order keys are given. */
export function seriesClass(keys: readonly string[], key: string): string {
  return `series-${Math.max(0, keys.indexOf(key)) % SERIES_CLASSES}`;
}

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

export function ColumnChart({ columns, keys, format, title }: { columns: Column[]; keys: string[]; format: (value: number) => string; title: string }) {
  const width = 640;
  const height = 220;
  const left = 56;
  const bottom = 28;
  const top = 10;
  const plotHeight = height - bottom - top;
  const max = niceMax(Math.max(0, ...columns.map((column) => column.segments.reduce((sum, s) => sum + s.value, 0))));
  const slot = (width - left - 8) / Math.max(1, columns.length);
  const barWidth = Math.max(4, slot * 0.7);
  const labelEvery = Math.ceil(columns.length / 10);
  const y = (value: number) => top + plotHeight - (value / max) * plotHeight;

  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} preserveAspectRatio="xMidYMid meet">
        <title>{title}</title>
        {[0, 0.5, 1].map((share) => (
          <g key={share}>
            <line class="chart-gridline" x1={left} x2={width - 4} y1={y(max * share)} y2={y(max * share)} />
            <text class="chart-axis" x={left - 6} y={y(max * share) + 4} text-anchor="end">
              {format(max * share)}
            </text>
          </g>
        ))}
        {columns.map((column, index) => {
          const x = left + index * slot + (slot - barWidth) / 2;
          let base = 0;
          const total = column.segments.reduce((sum, s) => sum + s.value, 0);
          return (
            <g key={column.label}>
              <title>{`${column.label}: ${format(total)}${column.segments.length > 1 ? ` (${column.segments.filter((s) => s.value > 0).map((s) => `${s.key} ${format(s.value)}`).join(', ')})` : ''}`}</title>
              {column.segments.map((segment) => {
                const y0 = y(base);
                base += segment.value;
                const y1 = y(base);
                return segment.value > 0 ? <rect key={segment.key} class={`chart-bar ${seriesClass(keys, segment.key)}`} x={x} y={y1} width={barWidth} height={Math.max(1, y0 - y1)} /> : null;
              })}
              {index % labelEvery === 0 ? (
                <text class="chart-axis" x={x + barWidth / 2} y={height - 8} text-anchor="middle">
                  {column.label}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      {keys.length > 1 ? <Legend keys={keys} /> : null}
    </figure>
  );
}

export function Legend({ keys }: { keys: string[] }) {
  return (
    <figcaption class="legend">
      {keys.map((key) => (
        <span key={key} class="legend-item">
          <svg viewBox="0 0 10 10" class="legend-swatch" aria-hidden="true">
            <rect class={`chart-bar ${seriesClass(keys, key)}`} width="10" height="10" rx="2" />
          </svg>
          {key}
        </span>
      ))}
    </figcaption>
  );
}

export interface BarRow {
  label: string;
  value: number;
  /** Shown at the bar's end instead of the formatted value. */
  note?: string;
  series?: string;
}

/** One bar per row; `max` fixes the scale (1 for rates), else the largest value fills the width. */
export function BarList({ rows, format, title, max, keys = [] }: { rows: BarRow[]; format: (value: number) => string; title: string; max?: number; keys?: string[] }) {
  const rowHeight = 26;
  const width = 640;
  const labelWidth = 180;
  const valueWidth = 110;
  const scale = max ?? Math.max(0, ...rows.map((row) => row.value));
  const barSpace = width - labelWidth - valueWidth;
  const height = Math.max(rowHeight, rows.length * rowHeight);
  if (rows.length === 0) return <p class="empty">Nothing to show yet.</p>;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title}>
        <title>{title}</title>
        {rows.map((row, index) => {
          const barWidth = scale > 0 ? Math.max(row.value > 0 ? 2 : 0, (row.value / scale) * barSpace) : 0;
          const y = index * rowHeight;
          return (
            <g key={row.label}>
              <text class="chart-label" x={labelWidth - 8} y={y + 17} text-anchor="end">
                {row.label.length > 26 ? `${row.label.slice(0, 25)}…` : row.label}
              </text>
              <rect class="chart-track" x={labelWidth} y={y + 5} width={barSpace} height={rowHeight - 10} rx="3" />
              <rect class={`chart-bar ${seriesClass(keys, row.series ?? row.label)}`} x={labelWidth} y={y + 5} width={barWidth} height={rowHeight - 10} rx="3" />
              <text class="chart-value" x={labelWidth + barSpace + 8} y={y + 17}>
                {row.note ?? format(row.value)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
