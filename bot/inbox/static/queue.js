/* Refreshes the coordinator queue every 3 seconds. Builds rows with textContent only. */
(function () {
  "use strict";
  var rows = document.getElementById("queue-rows");
  if (!rows) { return; }
  var updated = document.getElementById("queue-updated");
  var empty = document.getElementById("queue-empty");
  var table = document.getElementById("queue-table");
  var baseTitle = "Coordinator inbox";

  function cell(tr, value, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = value || "";
    tr.appendChild(td);
    return td;
  }

  function hint(td, value) {  // a second, quieter line in a cell
    if (!value) { return; }
    var span = document.createElement("span");
    span.className = "hint";
    span.textContent = value;
    td.appendChild(document.createElement("br"));
    td.appendChild(span);
  }

  function render(data) {
    var fragment = document.createDocumentFragment();
    var urgent = 0;
    data.items.forEach(function (item) {
      if (item.priority === "urgent" && item.sla_state !== "met" && item.sla_state !== "late") { urgent += 1; }
      var tr = document.createElement("tr");
      tr.className = "row row-" + item.priority;
      tr.setAttribute("data-key", item.key);
      var tagCell = document.createElement("td");
      var tag = document.createElement("strong");
      tag.className = "tag tag-" + item.priority;
      tag.textContent = item.label;
      tagCell.appendChild(tag);
      if (item.overnight) { hint(tagCell, "out of hours"); }
      tr.appendChild(tagCell);
      hint(cell(tr, item.kind, "what"), item.category);
      cell(tr, item.evidence, "evidence");
      cell(tr, item.practice);
      cell(tr, item.waiting, "waiting");
      cell(tr, item.sla, "sla sla-" + item.sla_state);
      hint(cell(tr, item.taken_by, "taken"), item.progress);
      var open = document.createElement("td");
      if (typeof item.url === "string" && item.url.indexOf("/inbox/") === 0) {
        var link = document.createElement("a");
        link.className = "button button-small";
        link.href = item.url;
        link.textContent = "Open";
        open.appendChild(link);
      }
      tr.appendChild(open);
      fragment.appendChild(tr);
    });
    while (rows.firstChild) { rows.removeChild(rows.firstChild); }
    rows.appendChild(fragment);
    table.hidden = data.items.length === 0;
    empty.hidden = data.items.length !== 0;
    document.title = (urgent ? "(" + urgent + " urgent) " : "") + baseTitle;
    updated.textContent = "Updated " + data.updated;
  }

  function poll() {
    fetch("/inbox/queue.json", {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401) { window.location.assign("/inbox/login"); return null; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) { if (data) { render(data); } })
      .catch(function () { updated.textContent = "Could not refresh the queue: trying again"; })
      .then(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 3000);
})();
