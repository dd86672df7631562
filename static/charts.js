// Draws every <figure data-chart> with uPlot; the figure's data table stays the accessible source.
(function () {
  var palette = ["#0f766e", "#6b7280", "#9ca3af", "#4b5563", "#a3a3a3", "#374151", "#d1d5db"];
  function draw(figure) {
    if (figure.dataset.drawn) return;
    var spec = JSON.parse(figure.dataset.chart);
    var box = figure.querySelector(".chart");
    var data = [spec.rounds].concat(spec.series.map(function (s) { return s.values; }));
    var grey = 1;
    var series = [{ label: "Round" }].concat(spec.series.map(function (s, i) {
      var mine = spec.highlight ? s.label === spec.highlight : i === 0;
      var colour = mine ? palette[0] : palette[spec.highlight ? (grey++ % palette.length) || 1 : (i % palette.length)];
      return { label: s.label, stroke: colour, width: mine ? 3 : 1.5, points: { show: spec.rounds.length < 3 } };
    }));
    var width = Math.max(240, box.clientWidth || figure.clientWidth || 320);
    new uPlot({ width: width, height: 220, series: series, legend: { show: true },
                axes: [{ label: "Round", incrs: [1, 2, 5, 10], values: function (u, splits) { return splits.map(String); } }, { label: spec.unit }], scales: { x: { time: false } } }, data, box);
    figure.dataset.drawn = "1";
  }
  function all() { document.querySelectorAll("figure[data-chart]").forEach(draw); }
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSettle", all);
})();
