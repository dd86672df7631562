// Shows each <time data-local-time> in the reader's own time zone (pages are written in UTC).
(function () {
  function localise(root) {
    root.querySelectorAll("time[data-local-time]").forEach(function (time) {
      var moment = new Date(time.getAttribute("datetime"));
      if (isNaN(moment)) return;
      var parts = { hour: "2-digit", minute: "2-digit" };
      if (time.getAttribute("data-local-time") === "seconds") parts.second = "2-digit";
      time.textContent = moment.toLocaleTimeString([], parts);
      time.title = moment.toUTCString();
      time.removeAttribute("data-local-time");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localise(document); });
  document.addEventListener("htmx:afterSettle", function () { localise(document); });  // swapped-in parts too
})();
