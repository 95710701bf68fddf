/**
 * The pages' only stylesheet and script, served from /ui (the Content-Security-Policy allows
 * nothing inline). The script is progressive enhancement: without it every page works by reload.
 * It re-fetches the page every few seconds and swaps in the new <main> when its data-tag changed,
 * unless the person is writing a reason (then it says the page changed and offers a reload).
 */
export const APP_CSS = `
:root{--fg:#1a1a1a;--muted:#555;--bg:#fff;--line:#c8c8c8;--accent:#0b57d0;--ok:#0a6b2d;--warn:#8a4b00;--bad:#a40e26}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px}
.top{display:flex;justify-content:space-between;align-items:center;gap:1em;padding:.6em 1.2em;border-bottom:1px solid var(--line);flex-wrap:wrap}
.brand{font-weight:700;text-decoration:none}
.who{display:flex;gap:.8em;align-items:center;flex-wrap:wrap}
main{max-width:72em;margin:0 auto;padding:1em 1.2em 3em}
h1{font-size:1.6em;margin:.4em 0}h2{font-size:1.3em;margin-top:1.6em;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;width:100%;margin:.6em 0}caption{text-align:left;font-weight:600;padding:.3em 0}
th,td{border-bottom:1px solid var(--line);padding:.35em .5em;text-align:left;vertical-align:top}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;word-break:break-all}
pre{background:#f5f5f5;border:1px solid var(--line);padding:.6em;overflow:auto;max-height:32em}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}.kv dt{font-weight:600}.kv dd{margin:0}
.card{border:1px solid var(--line);border-radius:6px;padding:.8em 1.1em;margin:1em 0}
.changed{border:2px solid var(--warn)}
.notice{border-left:4px solid var(--accent);background:#eef3fc;padding:.5em .9em}
.notice.warn{border-color:var(--warn);background:#fff4e5}.notice.ok{border-color:var(--ok);background:#e9f6ee}
.error{color:var(--bad);font-weight:600}
.muted{color:var(--muted)}.empty{font-style:italic}
.badge{display:inline-block;padding:0 .45em;border-radius:4px;border:1px solid currentColor;font-size:.85em}
.badge.local{color:var(--warn);font-weight:700}
.sev-critical{color:var(--bad)}.sev-high{color:#9a3412}.sev-medium{color:var(--warn)}
.overdue{color:var(--bad);font-weight:600}
.diff .add{color:var(--ok);background:#e9f6ee;display:inline-block;width:100%}
.diff .del{color:var(--bad);background:#fdecee;display:inline-block;width:100%}
.diff .hunk{color:#5b21b6}.diff .file{font-weight:700}
.focus{background:#fff4e5}
.log{font-size:.95em}.log .kind{font-family:ui-monospace,Menlo,monospace;color:var(--muted)}
textarea{width:100%;font:inherit}input[type=text],input:not([type]){font:inherit;padding:.3em}
button{font:inherit;padding:.45em 1.1em;border-radius:4px;border:1px solid var(--fg);background:#fff;cursor:pointer}
button.approve{background:var(--ok);color:#fff;border-color:var(--ok)}button.deny{background:var(--bad);color:#fff;border-color:var(--bad)}
button.link{border:0;background:none;color:var(--accent);text-decoration:underline;padding:0}
form.inline{display:inline}
.live:empty{display:none}.live{position:fixed;bottom:1em;right:1em;background:#fff;border:2px solid var(--accent);padding:.6em 1em;border-radius:6px}
`;

export const APP_JS = `'use strict';
(function () {
  var main = document.getElementById('main');
  if (!main || main.getAttribute('data-refresh') !== 'on' || !window.fetch || !window.DOMParser) return;
  var live = document.getElementById('live');
  var EVERY_MS = 3000;
  function writing() {
    var areas = main.querySelectorAll('textarea');
    for (var i = 0; i < areas.length; i++) if (areas[i].value.trim() !== '') return true;
    return false;
  }
  function offerReload() {
    if (live.childNodes.length) return;
    live.textContent = 'This remediation changed. ';
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Show the new state';
    b.addEventListener('click', function () { location.reload(); });
    live.appendChild(b);
  }
  function poll() {
    fetch(location.pathname + location.search, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (!text) return;
        var next = new DOMParser().parseFromString(text, 'text/html').getElementById('main');
        if (!next || next.getAttribute('data-tag') === main.getAttribute('data-tag')) return;
        if (writing()) return offerReload();
        var focused = document.activeElement && document.activeElement.id;
        main.innerHTML = next.innerHTML;
        main.setAttribute('data-tag', next.getAttribute('data-tag'));
        live.textContent = 'Updated.';
        setTimeout(function () { if (live.textContent === 'Updated.') live.textContent = ''; }, 2500);
        if (focused) { var f = document.getElementById(focused); if (f) f.focus(); }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, EVERY_MS); });
  }
  setTimeout(poll, EVERY_MS);
})();
`;
