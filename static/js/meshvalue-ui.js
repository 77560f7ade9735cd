/* Small behaviours of every page, kept out of the HTML so the Content-Security-Policy can refuse inline code.
 *
 * Progress bars carry their width in data-width (0-100); setting it through the CSSOM is allowed by
 * the policy, a style="" attribute would not be.
 */
(function () {
  "use strict";

  function sizeProgressBars(root) {
    root.querySelectorAll(".progress-fill[data-width]").forEach(function (bar) {
      var width = Number(bar.getAttribute("data-width"));
      if (isFinite(width)) {
        bar.style.width = Math.max(0, Math.min(100, width)) + "%";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { sizeProgressBars(document); });
  // Fragments swapped in by htmx carry their own bars.
  document.addEventListener("htmx:afterSwap", function (event) { sizeProgressBars(event.target); });
})();
