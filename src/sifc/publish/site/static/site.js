/* Sort, filter and search the table of a table page: no library, no request.
   Without script the page still shows every row. */
(function () {
  "use strict";

  function norm(text) {
    return String(text).normalize("NFKC").toLowerCase();
  }

  function compare(a, b, numeric) {
    if (a === "" || b === "") {
      return a === b ? 0 : (a === "" ? 1 : -1); /* empty cells last */
    }
    if (numeric) {
      return Number(a) - Number(b);
    }
    return a < b ? -1 : (a > b ? 1 : 0);
  }

  function setup(table) {
    var controls = document.getElementById(table.getAttribute("data-controls"));
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    rows.forEach(function (row, i) {
      row.sifcIndex = i;
      row.sifcRaw = Array.prototype.map.call(row.cells, function (cell) { return cell.textContent; });
      row.sifcText = row.sifcRaw.map(norm);
    });
    var search = controls.querySelector("input[type=search]");
    var column = controls.querySelector("select");
    var count = controls.querySelector(".count");
    var reset = controls.querySelector("button.reset");

    function apply() {
      var terms = norm(search.value).split(/\s+/).filter(Boolean);
      var col = column.value === "" ? -1 : Number(column.value);
      var shown = 0;
      rows.forEach(function (row) {
        var hay = col < 0 ? row.sifcText.join("\u0001") : (row.sifcText[col] || "");
        var match = terms.every(function (term) { return hay.indexOf(term) !== -1; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      count.textContent = "Showing " + shown + " of " + rows.length + " rows";
      table.setAttribute("data-shown", String(shown));
    }

    function sortBy(index) {
      var th = headers[index];
      var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      var type = th.getAttribute("data-type");
      var numeric = type === "integer" || type === "number";
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir);
      var sign = dir === "ascending" ? 1 : -1;
      rows.sort(function (a, b) {
        var x = a.sifcRaw[index], y = b.sifcRaw[index];
        var c = compare(x, y, numeric);
        if (c !== 0 && x !== "" && y !== "") { c *= sign; }
        return c !== 0 ? c : a.sifcIndex - b.sifcIndex;
      });
      var fragment = document.createDocumentFragment();
      rows.forEach(function (row) { fragment.appendChild(row); });
      tbody.appendChild(fragment);
    }

    headers.forEach(function (th, index) {
      var button = th.querySelector("button");
      if (button) {
        button.addEventListener("click", function () { sortBy(index); });
      }
    });
    search.addEventListener("input", apply);
    column.addEventListener("change", apply);
    reset.addEventListener("click", function () {
      search.value = "";
      column.value = "";
      apply();
      search.focus();
    });
    controls.hidden = false;
    apply();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), setup);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
