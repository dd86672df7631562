// Nothing typed on the decision page (form#decision[data-draft-key]) is lost on the way to the server:
// a failed autosave says "Not saved — retrying…" and retries (backoff, and at once when the browser is back
// online); what is not saved yet waits in localStorage per game, team and round and is offered back after a
// reload; leaving with unsaved typing asks first.
(function () {
  var RETRY_AFTER_MS = [2000, 4000, 8000, 16000, 30000];
  var PREFIX = "moatline:draft:";
  var form, key, edits = 0, savedEdits = 0, failures = 0, retryTimer = null, leaving = false, refused = false;

  function byId(id) { return document.getElementById(id); }
  function dirty() { return edits !== savedEdits; }
  function version() { return Number(byId("draft-version").value) || 0; }

  function fields() {  // the decision's own fields, not the token, version or round
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit" || el.type === "button") return;
      values[el.name] = el.type === "checkbox" ? (el.checked ? "on" : "") : el.value;
    });
    return values;
  }

  function fill(values) {
    Object.keys(values).forEach(function (name) {
      var el = form.elements.namedItem(name);
      if (!el || el.type === "hidden") return;
      if (el.type === "checkbox") el.checked = values[name] === "on"; else el.value = values[name];
    });
  }

  function same(a, b) {
    return Object.keys(a).every(function (name) { return !(name in b) || a[name] === b[name]; });
  }

  // --- the copy kept in the browser -------------------------------------------------------------
  function read(k) {
    try { return JSON.parse(localStorage.getItem(k) || "null"); } catch (e) { return null; }
  }
  function keep() {
    try {
      localStorage.setItem(key, JSON.stringify({ at: Date.now(), base: version(), values: fields() }));
    } catch (e) { /* storage full or refused: the server copy and the prompt still protect the typing */ }
  }
  function forget(k) {
    try { localStorage.removeItem(k || key); } catch (e) { /* nothing kept */ }
  }
  function otherRounds() {  // copies kept for this team's other rounds, newest first
    var team = key.slice(0, key.lastIndexOf(":") + 1), found = [];
    for (var i = 0; i < localStorage.length; i++) {
      var k = localStorage.key(i);
      if (k && k.indexOf(team) === 0 && k !== key) found.push(k);
    }
    return found.sort(function (a, b) { return ((read(b) || {}).at || 0) - ((read(a) || {}).at || 0); });
  }

  // --- what the student is told -----------------------------------------------------------------
  function say(text, canRetry) {
    var state = byId("save-state");
    if (state.textContent !== text) state.textContent = text;
    state.classList.toggle("save-state--failing", Boolean(text));
    byId("save-retry").hidden = !canRetry;
    followWhileUnsaved();
  }

  // the status follows the student down the form while something typed is not saved and asks for them
  function followWhileUnsaved() {
    var choice = byId("draft-status") && byId("draft-status").querySelector("button");
    var offered = !byId("draft-offer").hidden;
    byId("status-bar").classList.toggle("status-bar--alert", Boolean(failures || refused || choice || offered));
  }

  // --- autosave outcomes ------------------------------------------------------------------------
  function isSave(event) {
    var elt = event.detail && event.detail.elt;
    return Boolean(elt && elt.hasAttribute && elt.hasAttribute("data-autosave"));
  }

  function baseOf(elt) {  // the version a save goes on top of: the form's, or the one "keep what you typed" names
    var base = version();
    try { base = Math.max(base, Number(JSON.parse(elt.getAttribute("hx-vals") || "{}").overwrite_version) || 0); }
    catch (e) { /* no overwrite asked */ }
    return base;
  }

  function savedVersion(xhr) {  // the version the answer puts in the form (higher than the base only if it saved)
    var found = /id="draft-version"[^>]*value="(\d+)"/.exec(xhr.responseText || "");
    return found ? Number(found[1]) : 0;
  }

  function answered(xhr) {
    clearTimeout(retryTimer);
    failures = 0;
    refused = savedVersion(xhr) <= xhr.moatlineBase;  // answered, but not saved: a problem, a clash, a closed round
    if (!refused) {
      savedEdits = xhr.moatlineEdits;
      if (!dirty()) forget();
      if (byId("carried-note")) byId("carried-note").hidden = true;
    }
    say("", false);
  }

  function failed(xhr) {
    clearTimeout(retryTimer);
    var earlier = byId("draft-status").querySelector(".status-message");  // "Saved." was about an earlier save
    if (earlier) earlier.remove();
    if (xhr && xhr.status === 403) {
      refused = true;
      say("Not saved: this page has expired. Reload it, and what you typed will be offered back.", false);
      return;
    }
    failures += 1;
    // no answer at all (status 0) is the network, not the server: say so even before navigator.onLine catches up
    var offline = navigator.onLine === false || !xhr || xhr.status === 0;
    say("Not saved — retrying" + (offline ? " when you are back online" : "") + "… What you typed is kept in this browser.", true);
    retryTimer = setTimeout(retry, retryDelay(xhr));
  }

  // the wait before the next try: the backoff, at least the server's Retry-After (a busy server's 503),
  // spread by up to half again so that a class refused in the same second does not come back in one
  function retryDelay(xhr) {
    var wait = RETRY_AFTER_MS[Math.min(failures, RETRY_AFTER_MS.length) - 1];
    var asked = xhr ? parseInt(xhr.getResponseHeader("Retry-After") || "", 10) : NaN;
    if (asked > 0) wait = Math.max(wait, asked * 1000);
    return wait + Math.floor(Math.random() * wait / 2);
  }

  function retry() {
    clearTimeout(retryTimer);
    if (dirty()) htmx.trigger(byId("autosave"), "retry-save");
  }

  // --- offered back after a reload --------------------------------------------------------------
  function offerBack() {
    var stored = read(key), from = key, older = otherRounds();
    if (!stored && older.length) { from = older[0]; stored = read(from); }
    if (!stored || !stored.values) return;
    if (same(stored.values, fields())) {  // on screen already: a refused save shows it again, a saved one landed
      if (byId("draft-status").querySelector("button")) edited();
      else if (from === key && version() > (stored.base || 0)) forget();
      else if (from !== key) older.forEach(forget);
      return;
    }
    var at = new Date(stored.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    var round = from.slice(from.lastIndexOf(":") + 1);
    byId("draft-offer-text").textContent = from === key
      ? "What you typed at " + at + " was not saved."
      : "What you typed for round " + round + " at " + at + " was not saved before that round closed. " +
        "Restore it into this round's form (nothing is saved until you save or change a field).";
    byId("draft-offer").querySelectorAll("[data-offer-time]").forEach(function (el) { el.textContent = at; });
    byId("draft-offer").hidden = false;
    followWhileUnsaved();
    byId("draft-restore").addEventListener("click", function () {
      fill(stored.values);
      byId("draft-version").value = String(from === key ? Math.min(stored.base || 0, version()) : 0);
      closeOffer(older);
      edited();
      if (from === key) form.dispatchEvent(new Event("change", { bubbles: true }));  // saves, as typed
      else form.dispatchEvent(new Event("input", { bubbles: true }));  // only checks: another round's values
    });
    byId("draft-discard").addEventListener("click", function () {
      if (from === key) forget();
      closeOffer(older);
    });
  }

  function closeOffer(older) {
    byId("draft-offer").hidden = true;
    older.forEach(forget);
    followWhileUnsaved();
  }

  function edited() {
    edits += 1;
    keep();
  }

  function start() {
    form = document.querySelector("form#decision[data-draft-key]");
    if (!form || !byId("autosave")) return;
    key = PREFIX + form.dataset.draftKey;
    if (form.dataset.carried) {
      edited();
      refused = true;  // shown, not saved
      otherRounds().forEach(forget);
      followWhileUnsaved();
    } else offerBack();
    form.addEventListener("input", edited);
    form.addEventListener("change", edited);
    form.addEventListener("submit", function () { leaving = true; });
    byId("save-retry").addEventListener("click", retry);
    document.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("[data-discard-draft]")) { savedEdits = edits; forget(); }
    });
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (!isSave(event)) return;
      event.detail.xhr.moatlineEdits = edits;
      event.detail.xhr.moatlineBase = baseOf(event.detail.elt);
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (!isSave(event)) return;
      if (event.detail.successful) answered(event.detail.xhr); else failed(event.detail.xhr);
    });
    document.body.addEventListener("htmx:afterSettle", followWhileUnsaved);
    window.addEventListener("online", function () { if (failures) retry(); });
    window.addEventListener("pageshow", function () { leaving = false; });
    window.addEventListener("beforeunload", function (event) {
      if (!dirty() || leaving) return;
      event.preventDefault();
      event.returnValue = "";  // older browsers show their prompt only when this is set
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
