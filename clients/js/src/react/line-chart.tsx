// SPDX-License-Identifier: MIT
// A small inline-SVG line chart for the monitor: a few series over a sliding time window.

export interface ChartSeries {
  name: string;
  color: string;
  /** SVG stroke-dasharray, e.g. '6 4': keeps a series visible where it overlaps another. */
  dash?: string;
  points: readonly (readonly [t: number, v: number])[];
}

export interface LineChartProps {
  title: string;
  series: readonly ChartSeries[];
  /** Right edge of the x axis (ms) and its width. */
  now: number;
  windowMs: number;
  unit?: string;
}

const W = 600;
const H = 160;
const PAD_L = 44;
const PAD_R = 8;
const PAD_T = 10;
const PAD_B = 20;

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  return v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : `${+v.toFixed(v < 10 ? 1 : 0)}`;
}

/** Renders nothing fancy: grid, y labels, one polyline per series, an HTML legend with latest values. */
export function LineChart({ title, series, now, windowMs, unit = '' }: LineChartProps) {
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1]))));
  const x = (t: number) => PAD_L + ((t - (now - windowMs)) / windowMs) * (W - PAD_L - PAD_R);
  const y = (v: number) => PAD_T + (1 - v / max) * (H - PAD_T - PAD_B);
  const ticks = [0, max / 2, max];
  return (
    <figure className="ssm-chart">
      <figcaption>
        <span className="ssm-chart-title">{title}</span>
        <span className="ssm-legend">
          {series.map((s) => (
            <span key={s.name}>
              <i style={{ background: s.color }} />
              {s.name} <b>{fmt(s.points.at(-1)?.[1] ?? 0)}{unit}</b>
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={PAD_L} x2={W - PAD_R} y1={y(v)} y2={y(v)} className="ssm-grid" />
            <text x={PAD_L - 6} y={y(v) + 4} textAnchor="end" className="ssm-axis">
              {fmt(v)}
            </text>
          </g>
        ))}
        <text x={PAD_L} y={H - 4} className="ssm-axis">
          -{Math.round(windowMs / 1000)}s
        </text>
        <text x={W - PAD_R} y={H - 4} textAnchor="end" className="ssm-axis">
          now
        </text>
        {series.map((s) =>
          s.points.length > 0 ? (
            <polyline
              key={s.name}
              fill="none"
              stroke={s.color}
              strokeWidth={2}
              strokeDasharray={s.dash}
              strokeLinejoin="round"
              vectorEffect="non-scaling-stroke"
              points={s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}
            />
          ) : null,
        )}
      </svg>
    </figure>
  );
}
