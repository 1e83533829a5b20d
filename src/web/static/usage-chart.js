// The usage page's chart: uPlot (served from node_modules as /static/uplot.js)
// draws the numbers the page embeds as JSON; the table below it holds the same
// numbers for readers without JavaScript or a screen.
(function () {
  'use strict';
  var source = document.getElementById('usage-data');
  var target = document.getElementById('usage-chart');
  if (!source || !target || typeof uPlot === 'undefined') return;
  var data = JSON.parse(source.textContent || '{}');
  var palette = ['#3366cc', '#dc3912', '#109618', '#990099', '#0099c6', '#dd4477'];
  var series = [{}];
  var columns = [data.days];
  var points = 0;
  var total = 0;
  data.series.forEach(function (s, i) {
    series.push({ label: s.label, stroke: palette[i % palette.length], width: 2, value: function (u, v) { return v == null ? '' : '$' + v.toFixed(4); } });
    columns.push(s.values);
    s.values.forEach(function (v) { if (v > 0) { points += 1; total += v; } });
  });
  if (data.budget !== null && data.budget !== undefined) {
    series.push({ label: 'daily budget', stroke: '#222', dash: [6, 4], width: 1 });
    columns.push(data.days.map(function () { return data.budget; }));
  }
  var width = Math.max(320, Math.min(960, target.clientWidth || 720));
  var chart = new uPlot({ width: width, height: 320, series: series, axes: [{}, { values: function (u, vals) { return vals.map(function (v) { return '$' + v; }); } }] }, columns, target);
  // What was drawn, for tests and for anyone inspecting the page.
  target.dataset.points = String(points);
  target.dataset.total = total.toFixed(6);
  target.dataset.series = String(chart.series.length - 1);
})();
