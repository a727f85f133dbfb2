// Lays out the findings (grouped by duty, resource or rule) and the package list from the embedded JSON,
// and filters them client-side. Every value is set with textContent: findings carry user content and
// must never become markup.
(function () {
  "use strict";
  const byId = (id) => document.getElementById(id);
  const data = JSON.parse(byId("report-data").textContent);
  const list = byId("findings-list");
  const selects = {
    group: byId("f-group"),
    service: byId("f-service"),
    duty: byId("f-duty"),
    severity: byId("f-severity"),
    status: byId("f-status"),
  };
  const search = byId("f-search");
  const dutyOf = {};
  data.duties.forEach((d) => { dutyOf[d.id] = d; });

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== null && text !== undefined) node.textContent = text;
    return node;
  }
  function option(select, value, label) {
    const o = el("option", null, label);
    o.value = value;
    select.appendChild(o);
  }
  data.services.forEach((s) => option(selects.service, s.id, s.name));
  data.duties.forEach((d) => option(selects.duty, d.id, d.id + " " + d.title));
  data.severities.forEach((s) => option(selects.severity, s, s));
  data.statuses.forEach((s) => option(selects.status, s, s));
  selects.group.value = data.group_by || "duty";

  function copyButton(text) {
    const button = el("button", "copy", "Copy");
    button.type = "button";
    button.title = "Copy the command";
    button.addEventListener("click", () => {
      const done = () => { button.textContent = "Copied"; setTimeout(() => { button.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, () => selectText(button.previousSibling));
      } else {
        selectText(button.previousSibling);
      }
    });
    return button;
  }
  function selectText(node) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  function block(label, text, cls) {
    const wrap = el("div", "block " + (cls || ""));
    wrap.appendChild(el("span", "label", label));
    const pre = el("pre", "wrap", text);
    wrap.appendChild(pre);
    return wrap;
  }

  function card(f) {
    const item = el("article", "finding");
    item.dataset.services = f.services.join(" ");
    item.dataset.duties = f.control_ids.join(" ");
    item.dataset.severity = f.severity;
    item.dataset.status = f.status;
    const rule = data.rules[f.rule_id] || {};
    item.dataset.text = [f.rule_id, f.title, f.where, f.resource || "", f.evidence || "", f.remediation,
      f.command || "", f.control_ids.join(" "), rule.title || ""].join("\n").toLowerCase();
    const head = el("div", "head");
    head.appendChild(el("span", "sev sev-" + f.severity, f.severity));
    head.appendChild(el("span", "status st-" + f.status, f.status));
    head.appendChild(el("span", "mono rule", f.rule_id));
    head.appendChild(el("span", "title", f.title));
    item.appendChild(head);
    const meta = el("div", "meta where");
    meta.appendChild(el("span", "mono", f.where));
    if (f.resource) meta.appendChild(el("span", null, " · " + f.resource));
    meta.appendChild(el("span", "mono duties", " · " + f.control_ids.join(", ")));
    item.appendChild(meta);
    if (rule.description) item.appendChild(el("p", "desc", rule.description));
    if (f.evidence) item.appendChild(block("Evidence (masked)", f.evidence, "evidence"));
    if (f.status === "waived") {
      item.appendChild(el("p", "fix", "Waived: " + (f.waiver || "")));
    } else {
      item.appendChild(el("p", "fix", "Fix: " + f.remediation));
      if (f.command) {
        const cmd = el("div", "command");
        cmd.appendChild(el("code", null, f.command));
        cmd.appendChild(copyButton(f.command));
        item.appendChild(cmd);
      }
      if (f.snippet) item.appendChild(block("Snippet", f.snippet, "snippet"));
      if (f.url) item.appendChild(el("p", "meta url", "Reference: " + f.url));
    }
    return item;
  }

  const cards = data.findings.map((f) => ({ f: f, node: card(f) }));

  function groupKey(f, how) {
    if (how === "resource") return f.path;
    if (how === "rule") return f.rule_id;
    return f.status === "pass" ? "(passing checks)" : (f.group_duty || "(duties outside the catalog)");
  }
  function groupTitle(key, how) {
    if (how === "duty" && dutyOf[key]) {
      const d = dutyOf[key];
      return { id: key, text: d.title, status: d.status };
    }
    if (how === "rule" && data.rules[key]) return { id: key, text: data.rules[key].title, status: "" };
    return { id: key, text: "", status: "" };
  }
  let groups = [];
  function layout() {
    const how = selects.group.value || "duty";
    list.textContent = "";
    const byKey = new Map();
    cards.forEach((c) => {
      const key = groupKey(c.f, how);
      if (!byKey.has(key)) byKey.set(key, []);
      byKey.get(key).push(c);
    });
    groups = [];
    let keys = Array.from(byKey.keys());
    if (how === "duty") {
      // The table's order: the most severe duty first (the order the report computed).
      const rank = {};
      (data.duty_order || []).forEach((id, i) => { rank[id] = i; });
      const at = (k) => (k in rank ? rank[k] : keys.length + (data.duty_order || []).length);
      keys = keys.map((k, i) => [at(k), i, k]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
    }
    keys.forEach((key) => {
      const members = byKey.get(key);
      const section = el("section", "group");
      section.dataset.key = key;
      const t = groupTitle(key, how);
      const h = el("h3", "wrap");
      if (t.status) h.appendChild(el("span", "status st-" + t.status, t.status.replace("_", " ")));
      h.appendChild(el("span", "mono gid", t.id));
      if (t.text) h.appendChild(el("span", null, t.text));
      const count = el("small", "count");
      h.appendChild(count);
      section.appendChild(h);
      members.forEach((c) => section.appendChild(c.node));
      list.appendChild(section);
      groups.push({ section: section, members: members, count: count });
    });
  }

  function wanted() {
    return {
      group: selects.group.value,
      service: selects.service.value,
      duty: selects.duty.value,
      severity: selects.severity.value,
      status: selects.status.value,
      q: search.value.trim().toLowerCase(),
    };
  }
  function apply() {
    const w = wanted();
    let shown = 0;
    groups.forEach((g) => {
      let inGroup = 0;
      g.members.forEach((c) => {
        const d = c.node.dataset;
        const ok =
          (!w.service || d.services.split(" ").includes(w.service)) &&
          (!w.duty || d.duties.split(" ").includes(w.duty)) &&
          (!w.severity || d.severity === w.severity) &&
          (!w.status || d.status === w.status) &&
          (!w.q || d.text.includes(w.q));
        c.node.hidden = !ok;
        if (ok) inGroup += 1;
      });
      g.section.hidden = inGroup === 0;
      g.count.textContent = inGroup + " of " + g.members.length;
      shown += inGroup;
    });
    byId("shown-count").textContent = String(shown);
    byId("total-count").textContent = String(cards.length);
  }
  // `#severity=high&service=dataflow` preselects filters: matrix links and shared URLs use it.
  function fromHash() {
    const hash = window.location.hash.replace(/^#/, "");
    if (hash && !hash.includes("=")) return; // a plain anchor (#svc-iam), not a filter
    const params = new URLSearchParams(hash);
    Object.keys(selects).forEach((key) => {
      const value = params.get(key) || (key === "group" ? selects.group.value : "");
      const select = selects[key];
      select.value = Array.from(select.options).some((o) => o.value === value) ? value : "";
    });
    if (!selects.group.value) selects.group.value = data.group_by || "duty";
    search.value = params.get("q") || "";
    layout();
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
  }
  selects.group.addEventListener("change", () => { layout(); apply(); toHash(); });
  ["service", "duty", "severity", "status"].forEach((k) => selects[k].addEventListener("change", () => { apply(); toHash(); }));
  search.addEventListener("input", () => { apply(); toHash(); });
  window.addEventListener("hashchange", fromHash);
  layout();
  apply();
  fromHash();

  // --- the package list (image and rootfs scans) -------------------------------------------------
  const pbody = byId("packages-body");
  if (pbody) {
    const psearch = byId("p-search");
    const peco = byId("p-ecosystem");
    Array.from(new Set(data.packages.map((p) => p.ecosystem))).sort().forEach((e) => option(peco, e, e));
    const prow = data.packages.map((p) => {
      const tr = el("tr", "package");
      tr.appendChild(el("td", "wrap", p.name));
      tr.appendChild(el("td", "mono wrap", p.version));
      tr.appendChild(el("td", null, p.ecosystem));
      tr.appendChild(el("td", null, p.origin));
      tr.appendChild(el("td", "mono wrap", p.layer ? p.layer.split(":").pop().slice(0, 12) : ""));
      tr.appendChild(el("td", "mono wrap", p.purl || ""));
      tr.dataset.ecosystem = p.ecosystem;
      tr.dataset.text = [p.name, p.version, p.purl || "", p.path, p.origin].join("\n").toLowerCase();
      pbody.appendChild(tr);
      return tr;
    });
    const papply = () => {
      const q = psearch.value.trim().toLowerCase();
      let n = 0;
      prow.forEach((tr) => {
        const ok = (!peco.value || tr.dataset.ecosystem === peco.value) && (!q || tr.dataset.text.includes(q));
        tr.hidden = !ok;
        if (ok) n += 1;
      });
      byId("p-shown").textContent = String(n);
      byId("p-total").textContent = String(prow.length);
    };
    psearch.addEventListener("input", papply);
    peco.addEventListener("change", papply);
    papply();
  }
  document.body.dataset.ready = "true";
})();
