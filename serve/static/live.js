// The live holds and alerts view: rows the server pushes on /v1/alerts/stream (server-sent
// events, authenticated by the session cookie). Alerts are de-duplicated by their stable id.
"use strict";
(function () {
  const status = document.getElementById("live-status");
  const alerts = document.getElementById("alerts-body");
  const holds = document.getElementById("holds-body");
  const seen = new Set(Array.from(alerts.rows, (row) => row.dataset.alert));

  function batchLink(code) {
    const link = document.createElement("a");
    link.href = "/batch/" + encodeURIComponent(code);
    link.textContent = code;
    return link;
  }

  function row(cells, attribute, key) {
    const tr = document.createElement("tr");
    tr.dataset[attribute] = key;
    tr.className = "fresh";
    for (const value of cells) {
      const td = document.createElement("td");
      td.append(value);
      tr.append(td);
    }
    return tr;
  }

  function showHold(alert) {
    const key = alert.batch_code + "|" + alert.subject;
    const current = Array.from(holds.rows).find((tr) => tr.dataset.hold === key);
    if (alert.kind === "HOLD_RELEASED") {
      if (current) current.remove();
      return;
    }
    if (current) return;
    const holdId = alert.subject.slice(alert.subject.indexOf("/") + 1);
    const origin = alert.kind === "HOLD_INHERITED" ? "inherited from " + alert.origin_code : "own";
    holds.prepend(row([batchLink(alert.batch_code), holdId, origin, alert.message,
      alert.occurred_at], "hold", key));
  }

  function showAlert(alert) {
    if (seen.has(alert.alert_id)) return;
    seen.add(alert.alert_id);
    alerts.prepend(row([alert.occurred_at, alert.kind, batchLink(alert.batch_code),
      alert.origin_code, alert.message], "alert", alert.alert_id));
    if (alert.kind.startsWith("HOLD_")) showHold(alert);
  }

  const source = new EventSource("/v1/alerts/stream");
  source.addEventListener("alert", (event) => showAlert(JSON.parse(event.data)));
  source.addEventListener("status", (event) => {
    const state = JSON.parse(event.data);
    status.dataset.state = state.state;
    status.textContent = state.text;
  });
  source.addEventListener("error", () => {
    status.dataset.state = "reconnecting";
    status.textContent = "connection to the console lost: reconnecting…";
  });
})();
