/** The report's only stylesheet, inlined (the page loads nothing). */
export const REPORT_CSS = `
:root { color-scheme: light; --fg:#1d2430; --muted:#5b6575; --line:#d9dee7; --bg:#f6f7f9; --card:#fff; --ref:#4e79a7; --agg:#59a14f; --bad:#d64545; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header.page { padding: 20px 28px; background: var(--card); border-bottom: 1px solid var(--line); }
header.page h1 { margin: 0 0 4px; font-size: 20px; }
.muted, .note { color: var(--muted); }
.note { font-size: 12px; margin: 4px 0 0; }
main { padding: 20px 28px; max-width: 1500px; }
.totals { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0 0; padding: 0; list-style: none; }
.totals li { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; }
.totals b { display: block; font-size: 18px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; margin-bottom: 16px; }
figure.chart { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; overflow-x: auto; }
figure.chart figcaption { font-weight: 600; margin-bottom: 6px; }
svg text { font: 12px system-ui, sans-serif; fill: var(--fg); }
section.turn { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin: 16px 0; }
section.turn h2 { margin: 0 0 4px; font-size: 16px; }
svg.waterfall { max-width: 100%; height: auto; margin: 8px 0; }
rect.bar.reference { fill: var(--ref); } rect.bar.aggregator { fill: var(--agg); } rect.bar.failed { fill: var(--bad); }
.calls { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; margin-top: 8px; }
article.call { border: 1px solid var(--line); border-top: 4px solid var(--ref); border-radius: 6px; padding: 10px; min-width: 0; }
article.call.aggregator { border-top-color: var(--agg); }
article.call.failed { border-top-color: var(--bad); }
article.call h3 { margin: 0 0 6px; font-size: 14px; word-break: break-all; }
dl.facts { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0 0 8px; font-size: 12px; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.status.failed { color: var(--bad); font-weight: 600; } .status.ok { color: var(--agg); }
pre { white-space: pre-wrap; word-break: break-word; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 8px; margin: 4px 0; max-height: 360px; overflow: auto; font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; }
details { margin-top: 6px; } summary { cursor: pointer; color: var(--muted); }
p.same { font-size: 12px; color: var(--muted); margin: 6px 0; padding: 4px 8px; border-left: 3px solid var(--line); }
.msg .role { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin-top: 6px; }
section.insights { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin: 16px 0; }
section.insights h2 { margin: 0 0 4px; font-size: 16px; }
section.insights .charts { margin-top: 12px; }
.notice { background: #fff6db; border: 1px solid #e8c65a; border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.table-wrap { overflow-x: auto; }
table.insights { border-collapse: collapse; margin: 12px 0; font-size: 12px; }
table.insights caption { text-align: left; font-weight: 600; margin-bottom: 4px; }
table.insights th, table.insights td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; white-space: nowrap; }
table.insights td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.verdict-drop_candidate td:first-child, b.verdict.drop_candidate { color: var(--bad); }
tr.verdict-review td:first-child, b.verdict.review { color: #b07d00; }
tr.verdict-keep td:first-child, b.verdict.keep { color: var(--agg); }
ul.evidence { font-size: 12px; padding-left: 18px; }
svg line.grid { stroke: var(--line); } svg text.tick { fill: var(--muted); font-size: 10px; }
`;
