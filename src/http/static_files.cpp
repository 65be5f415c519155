// SPDX-License-Identifier: MIT
// Demo page, and admin/ pages turned into responses.
#include "http/static_files.hpp"

#include "http/error_reply.hpp"

#include <algorithm>

namespace ssecast::http {

namespace {

// The demo page: plain HTML + the browser's EventSource, so a newcomer sees the whole
// round trip without any build step.
constexpr std::string_view kDemoPage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ssecast demo</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.4rem}fieldset{border:1px solid #ccd;border-radius:8px;margin:1rem 0;padding:.8rem 1rem}
label{display:block;margin:.3rem 0}input,textarea{font:inherit;width:100%;box-sizing:border-box;padding:.3rem}
button{font:inherit;padding:.35rem .9rem;margin-top:.4rem}#log{font:13px ui-monospace,monospace;background:#f4f5f8;border-radius:8px;padding:.6rem;min-height:8rem;white-space:pre-wrap}
.status{font-weight:600}
</style></head><body>
<h1>ssecast demo</h1>
<p>Subscribe to a topic, publish an event to it, and watch it arrive live. Admin UI: <a href="/admin">/admin</a>.</p>
<fieldset><legend>Subscribe</legend>
<label>Topic <input id="topic" value="demo"></label>
<button id="sub">Subscribe</button> <span class="status" id="status">not connected</span></fieldset>
<fieldset><legend>Publish</legend>
<label>Publish key <input id="key" value="__KEY__" placeholder="one of auth.publish_keys"></label>
<label>Event type <input id="type" value="greeting"></label>
<label>Data (JSON or text) <textarea id="data" rows="2">{"hello":"world"}</textarea></label>
<button id="pub">Publish</button> <span id="pubres"></span></fieldset>
<div id="log"></div>
<script>
const $ = (id) => document.getElementById(id);
let es;
function log(line) { $("log").textContent = line + "\n" + $("log").textContent; }
$("sub").onclick = () => {
  if (es) es.close();
  const topic = $("topic").value.trim();
  es = new EventSource("/events?topic=" + encodeURIComponent(topic));
  $("status").textContent = "connecting…";
  es.onopen = () => { $("status").textContent = "connected to " + topic; };
  es.onerror = () => { $("status").textContent = "reconnecting…"; };
  es.onmessage = (e) => log("[message] id=" + e.lastEventId + " " + e.data);
  const type = $("type").value.trim();
  if (type) es.addEventListener(type, (e) => log("[" + type + "] id=" + e.lastEventId + " " + e.data));
  es.addEventListener("ssecast.history-lost", (e) => log("[history-lost] " + e.data));
};
$("pub").onclick = async () => {
  let data = $("data").value;
  try { data = JSON.parse(data); } catch (_) { /* send as text */ }
  const res = await fetch("/publish", { method: "POST",
    headers: { "Content-Type": "application/json", "Authorization": "Bearer " + $("key").value },
    body: JSON.stringify({ topics: [$("topic").value.trim()], type: $("type").value.trim() || "message", data }) });
  $("pubres").textContent = res.status + " " + await res.text();
};
$("sub").click();
</script></body></html>
)HTML";

} // namespace

Response demo_page(const Request& req, std::string_view demo_key) {
    Response res;
    res.content_type = "text/html; charset=utf-8";
    std::string page(kDemoPage);
    const std::string_view key = req.local_visitor() ? demo_key : std::string_view();
    page.replace(page.find("__KEY__"), 7, key);
    res.body = std::move(page);
    res.headers.emplace_back("Cache-Control", "no-store");
    return res;
}

Response admin_file(const Request& req, const admin::AdminSite& site) {
    const std::string_view rel =
        std::string_view(req.path).substr(std::min<std::size_t>(req.path.size(), 7)); // "/admin/"
    auto page = admin::admin_page(site, rel, req.local_visitor());
    if (!page) {
        return error_reply(errc::not_found);
    }
    Response res;
    res.status = page->status;
    res.content_type = std::move(page->content_type);
    res.body = std::move(page->body);
    res.headers = std::move(page->headers);
    return res;
}

} // namespace ssecast::http
