// Builds the findings table from the embedded JSON and filters it client-side.
// Every value is set with textContent: findings carry user content and must never become markup.
(function () {
  "use strict";
  const byId = (id) => document.getElementById(id);
  const data = JSON.parse(byId("report-data").textContent);
  const body = byId("findings-body");
  const selects = {
    service: byId("f-service"),
    duty: byId("f-duty"),
    severity: byId("f-severity"),
    status: byId("f-status"),
  };

  function option(select, value, label) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    select.appendChild(o);
  }
  data.services.forEach((s) => option(selects.service, s.id, s.name));
  data.duties.forEach((d) => option(selects.duty, d.id, d.id + " " + d.title));
  data.severities.forEach((s) => option(selects.severity, s, s));
  data.statuses.forEach((s) => option(selects.status, s, s));

  function cell(row, text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    if (text !== null && text !== undefined) td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function badge(td, text, cls) {
    const span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    td.appendChild(span);
  }

  const rows = data.findings.map((f) => {
    const tr = document.createElement("tr");
    tr.className = "finding";
    tr.dataset.services = f.services.join(" ");
    tr.dataset.duties = f.control_ids.join(" ");
    tr.dataset.severity = f.severity;
    tr.dataset.status = f.status;
    badge(cell(tr), f.severity, "sev sev-" + f.severity);
    badge(cell(tr), f.status, "status st-" + f.status);
    cell(tr, f.rule_id, "mono rule");
    cell(tr, f.title);
    cell(tr, f.where, "mono");
    cell(tr, f.control_ids.join(", "), "mono");
    cell(tr, f.evidence, "mono evidence");
    const fix = cell(tr, f.status === "waived" ? "waived: " + (f.waiver || "") : f.remediation);
    if (f.command) {
      const code = document.createElement("code");
      code.textContent = "$ " + f.command;
      fix.appendChild(document.createElement("br"));
      fix.appendChild(code);
    }
    body.appendChild(tr);
    return tr;
  });

  function wanted() {
    return {
      service: selects.service.value,
      duty: selects.duty.value,
      severity: selects.severity.value,
      status: selects.status.value,
    };
  }
  function apply() {
    const w = wanted();
    let shown = 0;
    rows.forEach((tr) => {
      const ok =
        (!w.service || tr.dataset.services.split(" ").includes(w.service)) &&
        (!w.duty || tr.dataset.duties.split(" ").includes(w.duty)) &&
        (!w.severity || tr.dataset.severity === w.severity) &&
        (!w.status || tr.dataset.status === w.status);
      tr.hidden = !ok;
      if (ok) shown += 1;
    });
    byId("shown-count").textContent = String(shown);
    byId("total-count").textContent = String(rows.length);
  }
  // `#severity=high&service=dataflow` preselects filters: matrix links and shared URLs use it.
  function fromHash() {
    const hash = window.location.hash.replace(/^#/, "");
    if (hash && !hash.includes("=")) return; // a plain anchor (#svc-iam), not a filter
    const params = new URLSearchParams(hash);
    Object.keys(selects).forEach((key) => {
      const value = params.get(key) || "";
      const select = selects[key];
      select.value = Array.from(select.options).some((o) => o.value === value) ? value : "";
    });
    apply();
  }
  function toHash() {
    const params = new URLSearchParams();
    Object.entries(wanted()).forEach(([k, v]) => { if (v) params.set(k, v); });
    try {
      window.history.replaceState(null, "", "#" + params.toString());
    } catch (e) {
      // Some viewers forbid history changes on file:// pages; filtering still works.
    }
    apply();
  }
  Object.values(selects).forEach((s) => s.addEventListener("change", toHash));
  window.addEventListener("hashchange", fromHash);
  apply();
  fromHash();
  document.body.dataset.ready = "true";
})();
