import Hummingbird

/// The console's stylesheet and its one small script, served from the binary (nothing is fetched
/// from another site). The script only enhances: the alert board refreshes itself, the idle warning
/// appears before the session ends, and the send page previews the route as the address is typed;
/// every page works without it.
enum ConsoleAssets {
    static func response(_ text: String, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static let css = """
        :root { --ink: #0b0c0c; --muted: #505a5f; --line: #b1b4b6; --brand: #005eb8; --focus: #ffdd00; --bad: #d4351c; --ok: #00703c; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 1.0625rem/1.5 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: var(--ink); background: #fff; }
        a { color: var(--brand); }
        a:focus, button:focus, input:focus, select:focus, textarea:focus, summary:focus { outline: 3px solid var(--focus); outline-offset:
        0; box-shadow: 0 0 0 5px var(--ink); }
        .skip { position: absolute; left: -9999px; }
        .skip:focus { left: 0.5rem; top: 0.5rem; background: var(--focus); color: var(--ink); padding: 0.5rem; z-index: 10; }
        .top { background: var(--brand); color: #fff; padding: 0.5rem 1rem; display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items:
        center; }
        .top a, .top .who { color: #fff; }
        .brand { font-weight: 700; font-size: 1.25rem; margin: 0; }
        nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; }
        nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
        .signout { margin-left: auto; display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
        main { padding: 1rem; max-width: 72rem; margin: 0 auto; overflow-wrap: break-word; }
        main ol, main ul { padding-left: 1.25rem; }
        h1 { font-size: 1.75rem; margin: 0.5rem 0 1rem; }
        h2 { font-size: 1.3rem; margin: 1.5rem 0 0.5rem; }
        .field { margin: 0 0 1rem; }
        main form { margin-top: 1rem; }
        label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
        .checkbox { display: flex; gap: 0.5rem; align-items: center; }
        .checkbox label { margin: 0; }
        .hint { color: var(--muted); margin: 0 0 0.25rem; }
        input, select, textarea { font: inherit; padding: 0.4rem; border: 2px solid var(--ink); max-width: 100%; }
        input[type="email"], input[type="password"], textarea { width: 100%; }
        textarea.code, pre.code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9rem; }
        pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f3f2f1; padding: 0.75rem; }
        button { font: inherit; font-weight: 600; padding: 0.5rem 1rem; border: 0; background: var(--ok); color: #fff; box-shadow: 0 2px 0
        #002d18; cursor: pointer; }
        .top button { background: #fff; color: var(--brand); box-shadow: none; }
        button.secondary { background: #f3f2f1; color: #0b0c0c; box-shadow: 0 2px 0 #929191; }
        a.button { display: inline-block; font-weight: 600; padding: 0.5rem 1rem; background: var(--brand); color: #fff; text-decoration: none; }
        .buttons { display: flex; flex-wrap: wrap; gap: 0.75rem; }
        .narrow { max-width: 28rem; }
        .filters { display: flex; flex-wrap: wrap; gap: 0 1rem; align-items: flex-end; }
        .error-summary { border: 4px solid var(--bad); padding: 0.75rem 1rem; margin-bottom: 1rem; }
        .error-summary h2 { margin-top: 0; }
        .error-text { color: var(--bad); font-weight: 600; }
        .notice { border-left: 6px solid var(--brand); padding: 0.5rem 1rem; background: #eef4fb; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; border-bottom: 1px solid var(--line); padding: 0.4rem 0.5rem; vertical-align: top; overflow-wrap: break-word; }
        /* Message ids and alert references have no spaces; without this a table of them is wider than the page. */
        td.token { overflow-wrap: anywhere; }
        tr.pending td:first-child { border-left: 6px solid var(--bad); }
        .facts, .record dl { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: 0.25rem 1rem; }
        .facts dt, .record dt { font-weight: 600; }
        .facts dd, .record dd { margin: 0; overflow-wrap: break-word; }
        .narrative { white-space: pre-line; overflow-wrap: break-word; }
        .timeline time { font-variant-numeric: tabular-nums; color: var(--muted); }
        .idle { position: fixed; bottom: 0; left: 0; right: 0; background: var(--focus); padding: 1rem; border-top: 4px solid var(--ink); }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        @media (max-width: 40rem) {
          .facts, .record dl { grid-template-columns: 1fr; } .signout { margin-left: 0; } main { padding: 0.75rem; }
          select, input, textarea { width: 100%; }
          table, tbody, tr, td { display: block; } thead { position: absolute; left: -9999px; }
          tr { border-bottom: 2px solid var(--line); padding: 0.5rem 0; } td { border: 0; padding: 0.1rem 0; }
          td::before { content: attr(data-label) ": "; font-weight: 600; }
        }
        """

    static let script = """
        (function () {
          "use strict";
          var board = document.getElementById("alert-board");
          if (board && window.fetch) {
            setInterval(function () {
              fetch(board.getAttribute("data-refresh"), { credentials: "same-origin" })
                .then(function (r) { return r.ok ? r.text() : null; })
                .then(function (html) { if (html !== null) { board.innerHTML = html; } })
                .catch(function () {});
            }, 30000);
          }
          var warning = document.getElementById("idle-warning");
          if (warning && window.fetch) {
            var idle = parseInt(warning.getAttribute("data-idle-seconds"), 10);
            var lead = parseInt(warning.getAttribute("data-warning-seconds"), 10);
            var timer = null;
            var arm = function () {
              if (timer) { clearTimeout(timer); }
              timer = setTimeout(function () { warning.hidden = false; warning.querySelector("button").focus(); }, Math.max(0, idle - lead) * 1000);
            };
            warning.querySelector("form").addEventListener("submit", function (event) {
              event.preventDefault();
              fetch(this.action, {
                  method: "POST", body: new URLSearchParams(new FormData(this)), credentials: "same-origin",
                  headers: { "Accept": "application/json" }
                })
                .then(function (r) { if (r.ok) { warning.hidden = true; arm(); } });
            });
            arm();
          }
          // The send page: the route preview follows the address as it is typed, and the send form
          // carries the chosen mailbox, workflow and address (without the script, "Check where it
          // goes" reloads the page with both filled in).
          var preview = document.getElementById("route-preview");
          if (preview && window.fetch) {
            var fields = ["from", "workflow", "to"].map(function (id) { return document.getElementById(id); });
            var pending = null;
            var update = function () {
              fields.forEach(function (f) { document.querySelector("input[data-copy='" + f.id + "']").value = f.value; });
              if (pending) { clearTimeout(pending); }
              pending = setTimeout(function () {
                var query = fields.map(function (f) { return f.id + "=" + encodeURIComponent(f.value); }).join("&");
                fetch("/console/send/route?" + query, { credentials: "same-origin" })
                  .then(function (r) { return r.ok ? r.text() : null; })
                  .then(function (text) { if (text !== null) { preview.textContent = text; } })
                  .catch(function () {});
              }, 250);
            };
            fields.forEach(function (f) { f.addEventListener("input", update); f.addEventListener("change", update); });
          }
        })();
        """
}
