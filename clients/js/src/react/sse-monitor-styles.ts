// SPDX-License-Identifier: MIT
// Styles of SSEMonitor, scoped under `.ssm` and shipped in JS so consumers need no CSS loader.

export const SSE_MONITOR_CSS = `
.ssm{--bg:#f6f7f9;--panel:#fff;--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--accent:#2563eb;
  --ok:#16a34a;--warn:#d97706;--bad:#dc2626;
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg);
  padding:20px;max-width:1200px;margin:0 auto;box-sizing:border-box;min-height:100vh}
.ssm *{box-sizing:border-box}
.ssm-header{display:flex;flex-wrap:wrap;align-items:center;gap:12px;margin-bottom:16px}
.ssm-header h1{font-size:20px;margin:0;font-weight:650;letter-spacing:-.01em}
.ssm-state{display:inline-flex;align-items:center;gap:6px;padding:3px 10px;border-radius:999px;background:var(--panel);
  border:1px solid var(--line);font-size:12px;font-weight:600;color:var(--muted)}
.ssm-state i{width:8px;height:8px;border-radius:50%;background:var(--muted)}
.ssm-state-live i{background:var(--ok);box-shadow:0 0 0 3px rgba(22,163,74,.18)}
.ssm-state-live{color:var(--ok)}
.ssm-state-connecting i,.ssm-state-paused i{background:var(--warn)}
.ssm-state-unreachable i,.ssm-state-unauthorized i{background:var(--bad)}
.ssm-state-unreachable,.ssm-state-unauthorized{color:var(--bad)}
.ssm-actions{margin-left:auto;display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.ssm button{font:inherit;font-weight:600;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:8px;
  padding:6px 12px;cursor:pointer}
.ssm button:hover{filter:brightness(1.08)}
.ssm button.ssm-secondary{background:var(--panel);color:var(--ink);border-color:var(--line)}
.ssm-toggle{display:inline-flex;align-items:center;gap:6px;cursor:pointer;user-select:none}
.ssm-banner{padding:10px 14px;border-radius:8px;margin-bottom:16px;border:1px solid}
.ssm-banner-error{background:#fef2f2;border-color:#fecaca;color:#991b1b}
.ssm-banner-warn{background:#fffbeb;border-color:#fde68a;color:#92400e}
.ssm-login{background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:20px;max-width:480px}
.ssm-login label{font-weight:650;font-size:15px}
.ssm-login p{color:var(--muted);margin:4px 0 12px}
.ssm-login-row{display:flex;gap:8px}
.ssm-login input{flex:1;min-width:0;font:inherit;padding:7px 10px;border:1px solid var(--line);border-radius:8px}
.ssm-login input:focus{outline:2px solid var(--accent);outline-offset:-1px}
.ssm-empty{color:var(--muted)}
.ssm-stale{opacity:.5;filter:grayscale(.8);transition:opacity .2s,filter .2s}
.ssm-cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-bottom:16px}
.ssm-card{background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:12px 14px;min-width:0}
.ssm-card-label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em;font-weight:600}
.ssm-card-value{font-size:24px;font-weight:650;margin-top:2px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
  font-variant-numeric:tabular-nums}
.ssm-card-sub{color:var(--muted);font-size:12px;margin-top:2px}
.ssm-card-ok .ssm-card-value{color:var(--ok)}
.ssm-card-bad .ssm-card-value{color:var(--bad)}
.ssm-charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px;margin-bottom:16px}
.ssm-chart{margin:0;background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:12px 14px}
.ssm-chart figcaption{display:flex;flex-wrap:wrap;justify-content:space-between;gap:8px;margin-bottom:6px}
.ssm-chart-title{font-weight:650}
.ssm-legend{display:flex;gap:12px;color:var(--muted);font-size:12px}
.ssm-legend i{display:inline-block;width:10px;height:3px;border-radius:2px;margin-right:5px;vertical-align:middle}
.ssm-legend b{color:var(--ink);font-variant-numeric:tabular-nums}
.ssm-chart svg{width:100%;height:auto;display:block}
.ssm-grid{stroke:var(--line);stroke-width:1}
.ssm-axis{fill:var(--muted);font-size:11px}
.ssm-tables{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}
.ssm-table-wrap{background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:12px 14px;overflow-x:auto;
  max-height:420px;overflow-y:auto}
.ssm-table-wrap h2{font-size:15px;margin:0 0 8px}
.ssm table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
.ssm th{text-align:left;color:var(--muted);font-weight:600;font-size:12px;border-bottom:1px solid var(--line);padding:6px 8px;
  position:sticky;top:0;background:var(--panel)}
.ssm td{padding:6px 8px;border-bottom:1px solid var(--line)}
.ssm tr:last-child td{border-bottom:0}
.ssm .num{text-align:right;white-space:nowrap}
.ssm-mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
.ssm-muted{color:var(--muted)}
.ssm-tag{margin-left:6px;font-size:11px;font-family:system-ui,sans-serif;background:#eff6ff;color:var(--accent);
  border-radius:4px;padding:1px 5px}
.ssm-footer{color:var(--muted);font-size:12px;margin-top:12px}
@media (max-width:600px){
  .ssm{padding:12px}
  .ssm-header h1{font-size:18px}
  .ssm-actions{margin-left:0;width:100%}
  .ssm-cards{grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}
  .ssm-card-value{font-size:19px}
  .ssm-charts,.ssm-tables{grid-template-columns:minmax(0,1fr)}
  .ssm-login-row{flex-direction:column}
  /* The charts' viewBox is 600 wide and shrinks to ~340px here: size axis text in viewBox units. */
  .ssm-axis{font-size:19px}
}
`;
