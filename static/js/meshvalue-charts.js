/* meshvalue charts: turns the JSON that the selectors put on the page (json_script) into Plotly charts.
 *
 * Each chart is an element with data-chart="<kind>" and data-source="<id of a json_script element>".
 * No figures are computed here: the page data arrives ready; this file only chooses how to draw it.
 */
(function () {
  "use strict";

  var css = getComputedStyle(document.documentElement);
  function cssVar(name, fallback) {
    var value = css.getPropertyValue(name).trim();
    return value || fallback;
  }
  var COLOURS = {
    value: cssVar("--value", "#4f46e5"),
    cost: cssVar("--cost", "#f59e0b"),
    good: cssVar("--good", "#0f9d58"),
    bad: cssVar("--bad", "#d93f3f"),
    muted: cssVar("--muted", "#667085"),
    grid: "#eef0f5",
  };
  var FONT = { family: cssVar("--font", "system-ui, sans-serif"), size: 12, color: "#344054" };
  var CONFIG = { responsive: true, displayModeBar: false, displaylogo: false };

  function currencySymbol(code) {
    return { EUR: "€", USD: "$", GBP: "£" }[code] || "";
  }

  function layout(extra) {
    var base = {
      font: FONT,
      margin: { l: 56, r: 16, t: 8, b: 40 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      hoverlabel: { bgcolor: "#101828", bordercolor: "#101828", font: { color: "#fff", family: FONT.family, size: 12 } },
      legend: { orientation: "h", x: 0, y: 1.12, font: { size: 12 } },
      xaxis: { gridcolor: COLOURS.grid, zeroline: false, linecolor: "#d0d5dd", automargin: true },
      yaxis: { gridcolor: COLOURS.grid, zerolinecolor: "#d0d5dd", automargin: true },
    };
    return Object.assign(base, extra || {});
  }

  function moneyAxis(currency, title) {
    return {
      gridcolor: COLOURS.grid,
      zerolinecolor: "#d0d5dd",
      tickprefix: currencySymbol(currency),
      ticksuffix: currencySymbol(currency) ? "" : " " + currency,
      tickformat: "~s",
      automargin: true,
      title: title ? { text: title, font: { size: 12, color: COLOURS.muted } } : undefined,
    };
  }

  var renderers = {
    /* Monthly value (line) against cost (bars). data: {months, value, cost, currency} */
    monthly: function (el, data) {
      var symbol = currencySymbol(data.currency);
      var hover = "%{x|%b %Y}: " + symbol + "%{y:,.0f}<extra>%{fullData.name}</extra>";
      Plotly.newPlot(
        el,
        [
          { type: "bar", name: "Cost", x: data.months, y: data.cost, marker: { color: COLOURS.cost, opacity: 0.85 }, hovertemplate: hover },
          {
            type: "scatter", mode: "lines+markers", name: "Realised value", x: data.months, y: data.value,
            line: { color: COLOURS.value, width: 2.5 }, marker: { size: 5 }, hovertemplate: hover,
          },
        ],
        layout({ xaxis: { type: "date", tickformat: "%b %y", gridcolor: "rgba(0,0,0,0)", automargin: true }, yaxis: moneyAxis(data.currency), bargap: 0.35, hovermode: "x unified" }),
        CONFIG
      );
    },

    /* The value/cost map: one trace per recommendation, fetched as JSON (data-url) so the page stays small.
       data: {currency, domains: [name], traces: [{key, label, colour, x, y, ratio, name, slug, domain (index)}]}
       Hover text and each product's URL are put together here from the columns, so the server sends
       every name once and no HTML or URL per point. Above WEBGL_FROM points Plotly draws with WebGL
       (scattergl), which stays fluid at 10,000 dots; below it SVG, which is crisper and easier to test. */
    map: function (el, data) {
      var WEBGL_FROM = 1500;
      var count = 0, maxima = [];
      data.traces.forEach(function (t) { count += t.x.length; maxima = maxima.concat(t.x, t.y); });
      if (!maxima.some(function (v) { return v > 0; })) { maxima.push(1); }
      var top = maxima.reduce(function (a, b) { return Math.max(a, b); }, 0) * 1.08;
      var positives = maxima.filter(function (v) { return v > 0; });
      var low = positives.reduce(function (a, b) { return Math.min(a, b); }, Infinity) / 2;
      // Log axes by default: small products crowd the origin on linear ones. A product with no value
      // or no cost cannot sit on a log axis, so then the map starts linear (the toggle switches).
      var allPositive = data.traces.every(function (t) {
        return t.x.every(function (v) { return v > 0; }) && t.y.every(function (v) { return v > 0; });
      });
      var axisType = allPositive && positives.length ? "log" : "linear";
      var big = count >= WEBGL_FROM;
      var symbol = currencySymbol(data.currency);
      var productUrl = el.dataset.productUrl || "";
      var money = function (v) { return symbol + Math.round(v).toLocaleString("en"); };
      var traces = data.traces.map(function (t) {
        return {
          type: big ? "scattergl" : "scatter", mode: "markers", name: t.label, x: t.x, y: t.y, customdata: t.slug,
          hovertext: t.name.map(function (name, i) {
            var ratio = t.ratio[i] === null ? "—" : t.ratio[i].toFixed(2) + "×";
            return "<b>" + name.replace(/</g, "&lt;") + "</b><br>" + (data.domains[t.domain[i]] || "").replace(/</g, "&lt;") +
              "<br>Value " + money(t.y[i]) + "<br>Cost " + money(t.x[i]) + "<br>Net " + money(t.y[i] - t.x[i]) + "<br>Value/cost " + ratio;
          }),
          hoverinfo: "text",
          marker: big
            ? { color: t.colour, size: 6, opacity: 0.7 }
            : { color: t.colour, size: 13, opacity: 0.88, line: { color: "#fff", width: 1.5 } },
        };
      });
      // The break-even diagonal: above it a product returns more value than it costs.
      traces.unshift({
        // Three points so that the line survives on log axes, where 0 cannot be drawn.
        type: "scatter", mode: "lines", name: "Break-even", x: [0, low, top], y: [0, low, top], hoverinfo: "skip",
        line: { color: "#98a2b3", width: 1, dash: "dot" }, showlegend: true,
      });
      Plotly.newPlot(
        el,
        traces,
        layout({
          xaxis: Object.assign(moneyAxis(data.currency, "Cost"), { rangemode: "tozero", type: axisType }),
          yaxis: Object.assign(moneyAxis(data.currency, "Realised value"), { rangemode: "tozero", type: axisType }),
          hovermode: "closest",
          // On a phone the legend would sit on the axis title; the strip of counts above the chart
          // uses the same colours and says the same.
          showlegend: el.clientWidth >= 520,
          legend: { orientation: "h", x: 0, y: -0.26, yanchor: "top", font: { size: 12 } },
          // Small products crowd the origin on linear axes; log axes spread them out.
          updatemenus: [{
            type: "buttons", direction: "right", showactive: true, active: axisType === "log" ? 1 : 0, x: 1, xanchor: "right", y: 1.02, yanchor: "bottom",
            pad: { r: 0, t: 0 }, font: { size: 11 }, bgcolor: "#fff", bordercolor: "#d0d5dd",
            buttons: [
              { label: "Linear", method: "relayout", args: [{ "xaxis.type": "linear", "yaxis.type": "linear" }] },
              { label: "Log", method: "relayout", args: [{ "xaxis.type": "log", "yaxis.type": "log" }] },
            ],
          }],
          margin: { l: 64, r: 16, t: 36, b: 8 },
        }),
        CONFIG
      );
      el.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata && productUrl) {
          window.location.assign(productUrl.replace("product-slug", encodeURIComponent(point.customdata)));
        }
      });
    },

    /* A KPI's history against its baseline and target lines. data: {x, y, baseline, target, unit, name} */
    kpi: function (el, data) {
      var shapes = [], annotations = [];
      [["Baseline", data.baseline, COLOURS.muted], ["Target", data.target, COLOURS.good]].forEach(function (line) {
        shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: line[1], y1: line[1], line: { color: line[2], width: 1.5, dash: "dash" } });
        annotations.push({ xref: "paper", x: 1, xanchor: "right", y: line[1], yanchor: "bottom", text: line[0] + " " + line[1].toLocaleString(), showarrow: false, font: { size: 11, color: line[2] } });
      });
      Plotly.newPlot(
        el,
        [{
          type: "scatter", mode: "lines+markers", name: data.name, x: data.x, y: data.y,
          line: { color: COLOURS.value, width: 2 }, marker: { size: 5 },
          hovertemplate: "%{x|%d %b %Y}: %{y:,.2f} " + (data.unit || "") + "<extra></extra>",
        }],
        layout({
          shapes: shapes, annotations: annotations, showlegend: false, margin: { l: 48, r: 12, t: 12, b: 32 },
          xaxis: { type: "date", tickformat: "%b %y", gridcolor: "rgba(0,0,0,0)", automargin: true },
          yaxis: { gridcolor: COLOURS.grid, zeroline: false, automargin: true, tickformat: "~s" },
        }),
        CONFIG
      );
    },

    /* Expected against realised value of settled bets. data: {categories, expected, realised} */
    bets: function (el, data) {
      Plotly.newPlot(
        el,
        [
          { type: "bar", name: "Expected", x: data.categories, y: data.expected, marker: { color: "#c7d2fe" }, hovertemplate: "%{x} bets, expected: €%{y:,.0f}<extra></extra>" },
          { type: "bar", name: "Realised", x: data.categories, y: data.realised, marker: { color: COLOURS.value }, hovertemplate: "%{x} bets, realised: €%{y:,.0f}<extra></extra>" },
        ],
        layout({ barmode: "group", yaxis: moneyAxis("EUR"), margin: { l: 48, r: 8, t: 8, b: 28 } }),
        CONFIG
      );
    },

    /* Cost by category, as horizontal bars. data: {categories, amounts, currency} */
    categories: function (el, data) {
      Plotly.newPlot(
        el,
        [{
          type: "bar", orientation: "h", x: data.amounts, y: data.categories,
          marker: { color: ["#6366f1", "#f59e0b", "#10b981", "#94a3b8"] },
          hovertemplate: "%{y}: " + currencySymbol(data.currency) + "%{x:,.0f}<extra></extra>",
        }],
        layout({ xaxis: moneyAxis(data.currency), yaxis: { automargin: true, autorange: "reversed", gridcolor: "rgba(0,0,0,0)" }, showlegend: false, margin: { l: 8, r: 16, t: 8, b: 32 } }),
        CONFIG
      );
    },

    /* Usage per consumer. data: {consumers, counts, owner_marks} */
    usage: function (el, data) {
      Plotly.newPlot(
        el,
        [{
          type: "bar", orientation: "h", x: data.counts, y: data.consumers,
          marker: { color: data.owner_marks.map(function (own) { return own ? COLOURS.value : "#a5b4fc"; }) },
          hovertemplate: "%{y}: %{x:,} uses<extra></extra>",
        }],
        layout({ yaxis: { automargin: true, autorange: "reversed", gridcolor: "rgba(0,0,0,0)" }, showlegend: false, margin: { l: 8, r: 16, t: 8, b: 32 } }),
        CONFIG
      );
    },

    /* The small evidence chart of an alert: the product's monthly value and cost.
       data: {start: "YYYY-MM-01", value: [...], cost: [...], currency}: one figure per month from `start`. */
    spark: function (el, data) {
      var symbol = currencySymbol(data.currency);
      if (!data.months) {
        var first = data.start.split("-").map(Number);
        data.months = data.value.map(function (_, i) {
          var month = first[1] - 1 + i;
          var year = first[0] + Math.floor(month / 12);
          return year + "-" + String((month % 12) + 1).padStart(2, "0") + "-01";
        });
      }
      Plotly.newPlot(
        el,
        [
          { type: "bar", name: "Cost", x: data.months, y: data.cost, marker: { color: COLOURS.cost, opacity: 0.8 }, hovertemplate: "%{x|%b %Y} cost " + symbol + "%{y:,.0f}<extra></extra>" },
          { type: "scatter", mode: "lines", name: "Value", x: data.months, y: data.value, line: { color: COLOURS.value, width: 2 }, hovertemplate: "%{x|%b %Y} value " + symbol + "%{y:,.0f}<extra></extra>" },
        ],
        layout({
          showlegend: true, legend: { orientation: "h", x: 0, y: 1.25, font: { size: 11 } }, margin: { l: 40, r: 4, t: 4, b: 22 },
          xaxis: { type: "date", tickformat: "%b", gridcolor: "rgba(0,0,0,0)", tickfont: { size: 10 } },
          yaxis: Object.assign(moneyAxis(data.currency), { tickfont: { size: 10 }, nticks: 4 }), bargap: 0.3,
        }),
        CONFIG
      );
    },

    /* Settled bets, expected against realised value, a trace per domain, with the diagonal.
       data: {traces: [{name, colour, x, y, hover, url}], currency} */
    calibration: function (el, data) {
      var all = [];
      data.traces.forEach(function (t) { all = all.concat(t.x, t.y); });
      var top = Math.max.apply(null, all.concat([1])) * 1.08;
      var traces = data.traces.map(function (t) {
        return {
          type: "scatter", mode: "markers", name: t.name, x: t.x, y: t.y, customdata: t.url,
          hovertext: t.hover, hoverinfo: "text",
          marker: { color: t.colour, size: 12, opacity: 0.88, line: { color: "#fff", width: 1.5 } },
        };
      });
      traces.unshift({
        type: "scatter", mode: "lines", name: "Called exactly", x: [0, top], y: [0, top], hoverinfo: "skip",
        line: { color: "#98a2b3", width: 1, dash: "dot" },
      });
      Plotly.newPlot(
        el,
        traces,
        layout({
          xaxis: Object.assign(moneyAxis(data.currency, "Expected value"), { rangemode: "tozero" }),
          yaxis: Object.assign(moneyAxis(data.currency, "Realised value"), { rangemode: "tozero" }),
          hovermode: "closest",
          legend: { orientation: "h", x: 0, y: -0.22, yanchor: "top", font: { size: 12 } },
          margin: { l: 64, r: 16, t: 8, b: 8 },
        }),
        CONFIG
      );
      el.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata) { window.location.assign(point.customdata); }
      });
    },

    /* Median days from alert to decision per quarter, with the SLA. data: {quarters, median_days, decisions, sla_days} */
    time_to_decision: function (el, data) {
      Plotly.newPlot(
        el,
        [{
          type: "bar", name: "Median days", x: data.quarters, y: data.median_days, customdata: data.decisions,
          marker: { color: data.median_days.map(function (d) { return d > data.sla_days ? COLOURS.bad : COLOURS.value; }) },
          hovertemplate: "%{x}: median %{y:.1f} days over %{customdata} decisions<extra></extra>",
        }],
        layout({
          showlegend: false,
          yaxis: { gridcolor: COLOURS.grid, zeroline: false, automargin: true, title: { text: "Days", font: { size: 12, color: COLOURS.muted } } },
          xaxis: { type: "category", gridcolor: "rgba(0,0,0,0)", automargin: true },
          shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: data.sla_days, y1: data.sla_days, line: { color: COLOURS.bad, width: 1.5, dash: "dash" } }],
          annotations: [{ xref: "paper", x: 1, xanchor: "right", y: data.sla_days, yanchor: "bottom", text: "SLA " + data.sla_days + " days", showarrow: false, font: { size: 11, color: COLOURS.bad } }],
        }),
        CONFIG
      );
    },

    /* Share of products passing all six readiness checks per domain over evaluation dates. data: {traces: [{name, colour, x, y}]} */
    readiness_trend: function (el, data) {
      Plotly.newPlot(
        el,
        data.traces.map(function (t) {
          return {
            type: "scatter", mode: "lines+markers", name: t.name, x: t.x, y: t.y, connectgaps: false,
            line: { color: t.colour, width: 2 }, marker: { size: 5 },
            hovertemplate: t.name + " %{x|%d %b %Y}: %{y:.0f}%<extra></extra>",
          };
        }),
        layout({
          xaxis: { type: "date", tickformat: "%d %b %y", gridcolor: "rgba(0,0,0,0)", automargin: true },
          yaxis: { range: [0, 100], ticksuffix: "%", gridcolor: COLOURS.grid, zeroline: false, automargin: true },
        }),
        CONFIG
      );
    },
  };

  function render(root) {
    if (typeof Plotly === "undefined") { return; }
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.rendered) { return; }
      var renderer = renderers[el.dataset.chart];
      if (!renderer) { return; }
      if (el.dataset.url) {
        // Data too large for the page (the map of every product) comes from a JSON endpoint.
        el.dataset.rendered = "loading";
        fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
          .then(function (data) { renderer(el, data); el.dataset.rendered = "true"; })
          .catch(function () { el.textContent = "The chart could not be loaded; reload the page to try again."; });
        return;
      }
      var source = document.getElementById(el.dataset.source);
      if (!source) { return; }
      if (el.dataset.lazy && "IntersectionObserver" in window) {
        // Many small charts on one page (the inbox's evidence): draw each when it scrolls into view.
        el.dataset.rendered = "waiting";
        lazyCharts.observe(el);
        return;
      }
      renderer(el, JSON.parse(source.textContent));
      el.dataset.rendered = "true";
    });
  }

  var lazyCharts = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) { return; }
      var el = entry.target;
      lazyCharts.unobserve(el);
      var source = document.getElementById(el.dataset.source);
      if (source && el.isConnected) {
        renderers[el.dataset.chart](el, JSON.parse(source.textContent));
        el.dataset.rendered = "true";
      }
    });
  }, { rootMargin: "200px" }) : null;

  function start() {
    render(document);
    // Cards swapped in by htmx may carry charts of their own.
    document.body.addEventListener("htmx:afterSettle", function () { render(document); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
