/* fmsim reports: make every table readable and sortable (Tablesort, vendored beside this file).
   A table whose first row holds only header cells gets that row as its <thead> (sticky, and a
   click on a header sorts by that column); cells holding a number are right-aligned. */
(function () {
  var NUMBER = /^[-+\u2212<>~]?\s*\d[\d,]*(\.\d+)?(e[-+]?\d+)?\s*%?(\s*\(.*\))?$/i;
  function header(table) {
    if (table.tHead) return table.tHead;
    var first = table.rows[0];
    if (!first || first.querySelector("td")) return null;
    var head = table.createTHead();
    head.appendChild(first);
    return head;
  }
  function align(table) {
    var body = table.tBodies;
    for (var b = 0; b < body.length; b++) {
      for (var r = 0; r < body[b].rows.length; r++) {
        var cells = body[b].rows[r].cells;
        for (var c = 0; c < cells.length; c++) {
          var text = cells[c].textContent.trim();
          if (text && !cells[c].classList.contains("l") && NUMBER.test(text)) {
            cells[c].classList.add("num");
          }
        }
      }
    }
  }
  function ready() {
    var tables = document.querySelectorAll("table");
    for (var i = 0; i < tables.length; i++) {
      var head = header(tables[i]);
      align(tables[i]);
      if (head && window.Tablesort && tables[i].tBodies.length) new Tablesort(tables[i]);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
