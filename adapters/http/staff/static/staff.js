// Keeps the live part of the staff page fresh, and refuses writes while offline.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var banner = document.getElementById("offline");
  var stamp = document.getElementById("last-updated");
  var refresh = Number(document.documentElement.dataset.refresh || 1000);
  var last = new Date();
  var online = true;
  var busy = false;

  function hhmm(date) {
    return String(date.getHours()).padStart(2, "0") + ":" + String(date.getMinutes()).padStart(2, "0");
  }

  function setWrites(enabled) {
    document.querySelectorAll("form[data-write] button, form[data-write] input, form[data-write] select")
      .forEach(function (el) { el.disabled = !enabled; });
  }

  function setOnline(state) {
    if (state === online) { return; }
    online = state;
    if (banner) {
      stamp.textContent = hhmm(last);
      banner.hidden = state;
    }
    document.body.classList.toggle("is-offline", !state);
    setWrites(state);
  }

  function poll() {
    if (!live || busy) { return; }
    busy = true;
    var url = "/staff/live?sku=" + encodeURIComponent(live.dataset.sku || "");
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, 4000);
    fetch(url, { credentials: "same-origin", cache: "no-store", signal: controller.signal })
      .then(function (response) {
        if (response.status === 401) { window.location.assign("/staff/"); return null; }
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        if (html !== live.dataset.html) {
          live.dataset.html = html;
          live.innerHTML = html;
        }
        last = new Date();
        live.dataset.updated = String(last.getTime());
        setOnline(true);
      })
      .catch(function () { setOnline(false); })
      .finally(function () { clearTimeout(timer); busy = false; });
  }

  // a form sent twice by a double tap is one submission
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!online && form.hasAttribute("data-write")) { event.preventDefault(); return; }
    if (form.method !== "post") { return; }
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
  });
  window.addEventListener("offline", function () { setOnline(false); });
  if (live) { setInterval(poll, refresh); }
})();
