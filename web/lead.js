/* QuickConnect lead insights: overview with charts (uPlot, vendored), funnels per guide flow,
 * conversation review with transcripts and tags, the NLU inbox. Every call goes to the JSON
 * API under ./api/lead/ with the console's HttpOnly session cookie. */
(function () {
  "use strict";
  var api = new URL("api/lead/", location.href).href; // .../webhooks/webchat/agent/api/lead/
  var $ = function (id) { return document.getElementById(id); };
  var STEPS = ["started", "verified", "proposed", "confirmed", "applied"];
  var INTENTS = [];
  var charts = [];

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }

  function flash(text) {
    $("flash").textContent = text;
    clearTimeout(flash.t);
    flash.t = setTimeout(function () { $("flash").textContent = ""; }, 5000);
  }

  function call(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(api + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 401) { location.href = "../agent"; throw new Error("signed out"); }
        if (!r.ok) throw new Error(data.error || ("HTTP " + r.status));
        return data;
      });
    });
  }

  function query(params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      if (params[k] !== "" && params[k] !== null && params[k] !== undefined) q.set(k, params[k]);
    });
    return q.toString();
  }

  function period() { return { from: $("from").value, to: $("to").value }; }
  function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(1) + " %"; }
  function duration(s) {
    if (s === null || s === undefined) return "–";
    var m = Math.floor(s / 60);
    return m + " min " + String(Math.round(s % 60)).padStart(2, "0") + " s";
  }

  // --- tabs ------------------------------------------------------------------------------------
  var tabs = ["overview", "funnels", "review", "inbox"];
  function show(name) {
    tabs.forEach(function (t) {
      $(t).hidden = t !== name;
      $("tab-" + t).setAttribute("aria-selected", String(t === name));
    });
    if (name === "inbox") loadInbox();
  }
  tabs.forEach(function (t) {
    $("tab-" + t).addEventListener("click", function () { show(t); });
  });

  // --- overview --------------------------------------------------------------------------------
  function kpi(label, value, id) {
    var box = el("div", "kpi");
    box.appendChild(el("p", "kpi-label", label));
    var v = el("p", "kpi-value", value);
    v.id = "kpi-" + id;
    box.appendChild(v);
    $("kpis").appendChild(box);
  }

  function barChart(target, labels, values, color) {
    var xs = labels.map(function (_, i) { return i; });
    var width = Math.max(280, $(target).clientWidth || 360);
    return new uPlot({
      width: width, height: 220,
      scales: { x: { time: false, range: [-0.6, Math.max(labels.length - 0.4, 0.6)] }, y: { range: [0, Math.max.apply(null, values.concat([1])) * 1.15] } },
      axes: [
        { values: function (u, splits) { return splits.map(function (s) { return labels[s] !== undefined && Number.isInteger(s) ? labels[s] : ""; }); }, incrs: [1], size: 40 },
        { size: 40 }
      ],
      legend: { show: false },
      cursor: { show: false },
      series: [{}, { label: "count", fill: color, stroke: color, paths: uPlot.paths.bars({ size: [0.6, 60] }), points: { show: false } }]
    }, [xs, values], $(target));
  }

  function renderOverview(o) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    $("kpis").textContent = "";
    kpi("Conversations", o.conversations, "conversations");
    kpi("Contained (no case)", pct(o.containment_rate), "containment");
    kpi("Handed off", o.handed_off + " (" + pct(o.handoff_rate) + ")", "handed-off");
    kpi("With a fallback", o.with_fallback, "fallback");
    kpi("Verification answers ok / failed", o.verification.succeeded + " / " + o.verification.failed, "verification");
    kpi("Unknown account given", o.verification.unknown_account, "unknown-account");
    kpi("Lockouts", o.verification.lockouts, "lockouts");
    kpi("Cases resolved", o.cases_resolved, "resolved");
    kpi("Median handling time", duration(o.median_handling_seconds), "handling");
    ["chart-daily", "chart-reasons", "chart-changes"].forEach(function (id) { $(id).textContent = ""; });
    var xs = o.daily.map(function (d) { return Date.parse(d.day + "T00:00:00Z") / 1000; });
    if (xs.length) {
      charts.push(new uPlot({
        width: Math.max(320, $("chart-daily").clientWidth || 520), height: 220,
        series: [{}, { label: "conversations", stroke: "#0b5cad", width: 2 },
          { label: "handed off", stroke: "#b4540a", width: 2 }],
        axes: [{}, { size: 40 }]
      }, [xs, o.daily.map(function (d) { return d.conversations; }), o.daily.map(function (d) { return d.handed_off; })], $("chart-daily")));
    } else {
      $("chart-daily").appendChild(el("p", "muted", "No conversations in this period."));
    }
    var reasons = o.handoff_reasons;
    if (reasons.length) {
      charts.push(barChart("chart-reasons", reasons.map(function (r) { return r.reason.replace(/_/g, " "); }),
        reasons.map(function (r) { return r.count; }), "#b4540a"));
    } else {
      $("chart-reasons").appendChild(el("p", "muted", "No handoffs in this period."));
    }
    var flows = Object.keys(o.changes_applied);
    var SHORT = { plan_change: "plan", device_protection: "device", account_recovery: "recovery",
      subscriptions: "add-ons", service_cutoffs: "cut-offs" };
    charts.push(barChart("chart-changes", flows.map(function (f) { return SHORT[f] || f.replace(/_/g, " "); }),
      flows.map(function (f) { return o.changes_applied[f]; }), "#0f7a55"));
    var table = el("table", "table small-table");
    table.id = "reason-table";
    reasons.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("td", null, r.reason.replace(/_/g, " ")));
      tr.appendChild(el("td", "num", r.count));
      table.appendChild(tr);
    });
    $("chart-reasons").appendChild(table);
  }

  // --- funnels ---------------------------------------------------------------------------------
  function renderFunnels(list) {
    var root = $("funnel-list");
    root.textContent = "";
    list.forEach(function (f) {
      var box = el("article", "funnel");
      box.dataset.flow = f.flow;
      box.appendChild(el("h3", null, f.label));
      var top = f.steps[0].reached || 1;
      f.steps.forEach(function (s) {
        var row = el("div", "step");
        row.dataset.step = s.step;
        row.appendChild(el("span", "step-label", s.label));
        var bar = el("span", "bar");
        var fill = el("span", "fill");
        fill.style.width = Math.round(100 * s.reached / top) + "%";
        bar.appendChild(fill);
        row.appendChild(bar);
        row.appendChild(el("span", "num reached", s.reached));
        if (s.index < STEPS.length - 1 && s.stopped > 0) {
          var a = el("a", "stopped", s.stopped + " left here");
          a.href = "#";
          a.addEventListener("click", function (e) {
            e.preventDefault();
            setFilters({ flow: f.flow, stopped_at: s.step });
            show("review");
          });
          row.appendChild(a);
        } else {
          row.appendChild(el("span", "stopped muted", s.index < STEPS.length - 1 ? "0 left here" : ""));
        }
        box.appendChild(row);
      });
      root.appendChild(box);
    });
  }

  function loadFigures() {
    var p = period();
    $("overview-csv").href = api + "export/overview.csv?" + query(p);
    return call("GET", "overview?" + query(p)).then(function (data) {
      renderOverview(data.overview);
      renderFunnels(data.funnels);
    }).catch(function (e) { flash(e.message); });
  }

  // --- conversation review ---------------------------------------------------------------------
  function filters() {
    var p = period();
    return {
      from: p.from, to: p.to, flow: $("f-flow").value, stopped_at: $("f-flow").value ? $("f-stopped").value : "",
      outcome: $("f-outcome").value, fallback: $("f-fallback").value, handed_off: $("f-handed").value,
      tag: $("f-tag").value.trim()
    };
  }

  function setFilters(f) {
    $("f-flow").value = f.flow || "";
    $("f-stopped").value = f.stopped_at || "";
    $("f-outcome").value = f.outcome || "";
    $("f-fallback").value = f.fallback || "";
    $("f-handed").value = f.handed_off || "";
    $("f-tag").value = f.tag || "";
    loadList();
  }

  function loadList() {
    var f = filters();
    f.limit = 200;
    $("list-csv").href = api + "export/conversations.csv?" + query(filters());
    return call("GET", "conversations?" + query(f)).then(function (data) {
      $("review-total").textContent = data.total;
      var body = $("conv-rows");
      body.textContent = "";
      data.items.forEach(function (c) {
        var tr = el("tr", "conv");
        tr.dataset.conversation = c.conversation_id;
        tr.tabIndex = 0;
        tr.appendChild(el("td", null, c.started_at.replace("T", " ").slice(0, 16)));
        tr.appendChild(el("td", null, c.flows.join(", ") || "–"));
        tr.appendChild(el("td", "outcome " + c.outcome, c.outcome.replace("_", " ")));
        tr.appendChild(el("td", "num", c.user_messages));
        tr.appendChild(el("td", "num", c.fallbacks));
        tr.appendChild(el("td", null, c.case_number ? c.case_number + " (" + (c.handoff_reason || "").replace(/_/g, " ") + ")" : ""));
        tr.appendChild(el("td", null, c.tags.join(", ")));
        var open = function () { openConversation(c.conversation_id); };
        tr.addEventListener("click", open);
        tr.addEventListener("keydown", function (e) { if (e.key === "Enter") open(); });
        body.appendChild(tr);
      });
    }).catch(function (e) { flash(e.message); });
  }

  function renderTags(box, id, tags) {
    box.textContent = "";
    tags.forEach(function (t) {
      var chip = el("span", "tag", t + " ");
      var x = el("button", "ghost tiny", "×");
      x.setAttribute("aria-label", "Remove tag " + t);
      x.addEventListener("click", function () {
        call("POST", "conversations/" + encodeURIComponent(id) + "/tags/delete", { tag: t })
          .then(function (d) { renderTags(box, id, d.tags); }).catch(function (e) { flash(e.message); });
      });
      chip.appendChild(x);
      box.appendChild(chip);
    });
  }

  function openConversation(id) {
    call("GET", "conversations/" + encodeURIComponent(id)).then(function (d) {
      var box = $("conv-detail");
      box.textContent = "";
      box.appendChild(el("h3", null, "Conversation " + id.slice(0, 18) + (id.length > 18 ? "…" : "")));
      if (d.account_number) box.appendChild(el("p", "muted", "Verified account: " + d.account_number));
      var tags = el("div", "tags");
      tags.id = "detail-tags";
      box.appendChild(tags);
      renderTags(tags, id, d.tags);
      var form = el("form", "tag-form");
      var input = el("input");
      input.id = "tag-input";
      input.placeholder = "Add a tag…";
      input.maxLength = 40;
      input.setAttribute("aria-label", "New tag");
      form.appendChild(input);
      form.appendChild(el("button", "ghost", "Tag"));
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        call("POST", "conversations/" + encodeURIComponent(id) + "/tags", { tag: input.value })
          .then(function (r) { input.value = ""; renderTags(tags, id, r.tags); loadList(); })
          .catch(function (err) { flash(err.message); });
      });
      box.appendChild(form);
      var log = el("ol", "transcript");
      log.id = "detail-transcript";
      d.messages.forEach(function (m) {
        var li = el("li", "msg " + m.sender);
        if (m.sender === "marker") {
          li.textContent = m.text === "action_handoff" ? "— handed to a person —" : "— fallback —";
        } else {
          li.appendChild(el("span", "who", m.sender === "agent" ? (m.agent_name || "agent") : m.sender));
          li.appendChild(el("span", "text", m.text));
          if (m.sender === "customer") {
            var nlu = el("span", "nlu" + (m.low_confidence ? " low" : ""),
              (m.intent || "not parsed") + (m.confidence !== null && m.confidence !== undefined ? " " + m.confidence.toFixed(2) : ""));
            li.appendChild(nlu);
          }
        }
        log.appendChild(li);
      });
      box.appendChild(log);
    }).catch(function (e) { flash(e.message); });
  }

  $("filters").addEventListener("submit", function (e) { e.preventDefault(); loadList(); });

  // --- NLU inbox -------------------------------------------------------------------------------
  function loadInbox() {
    var status = $("inbox-status").value;
    $("inbox-export").href = api + "export/inbox.yml";
    return call("GET", "inbox?" + query({ status: status })).then(function (data) {
      INTENTS = data.intents || INTENTS;
      $("inbox-total").textContent = data.total;
      var body = $("inbox-rows");
      body.textContent = "";
      data.items.forEach(function (item) {
        var tr = el("tr", "inbox-item");
        tr.dataset.item = item.id;
        tr.appendChild(el("td", null, item.text));
        tr.appendChild(el("td", null, item.reason.replace(/_/g, " ")));
        tr.appendChild(el("td", null, item.predicted_intent || "–"));
        tr.appendChild(el("td", "num", item.confidence === null ? "–" : item.confidence.toFixed(2)));
        var td = el("td");
        var select = el("select");
        select.setAttribute("aria-label", "Intent for this message");
        select.appendChild(el("option", null, "choose…")).value = "";
        INTENTS.concat(["out_of_scope"]).forEach(function (i) {
          var o = el("option", null, i);
          o.value = i;
          if (item.label_intent === i) o.selected = true;
          select.appendChild(o);
        });
        var save = el("button", "primary tiny", "Accept");
        save.addEventListener("click", function () {
          if (!select.value) { flash("Choose an intent first."); return; }
          call("POST", "inbox/" + item.id, { intent: select.value })
            .then(function () { flash("Labelled: " + select.value); loadInbox(); })
            .catch(function (e) { flash(e.message); });
        });
        var dismiss = el("button", "ghost tiny", "Dismiss");
        dismiss.addEventListener("click", function () {
          call("POST", "inbox/" + item.id, { dismiss: true })
            .then(function () { loadInbox(); }).catch(function (e) { flash(e.message); });
        });
        td.appendChild(select);
        td.appendChild(save);
        td.appendChild(dismiss);
        if (item.status !== "new") td.appendChild(el("span", "muted small", " " + item.status.replace(/_/g, " ")));
        tr.appendChild(td);
        body.appendChild(tr);
      });
    }).catch(function (e) { flash(e.message); });
  }
  $("inbox-status").addEventListener("change", loadInbox);

  // --- start -----------------------------------------------------------------------------------
  function isoDay(d) { return d.toISOString().slice(0, 10); }
  var params = new URLSearchParams(location.search);
  var today = new Date();
  $("to").value = params.get("to") || isoDay(today);
  $("from").value = params.get("from") || isoDay(new Date(today.getTime() - 29 * 86400000));
  STEPS.forEach(function (s) {
    var o = el("option", null, s);
    o.value = s;
    $("f-stopped").appendChild(o);
  });
  $("period").addEventListener("submit", function (e) {
    e.preventDefault();
    loadFigures();
    loadList();
  });
  fetch(new URL("api/me", location.href).href, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (me) { $("me-name").textContent = me.name || ""; })
    .catch(function () {});
  call("GET", "flows").then(function (data) {
    data.flows.forEach(function (f) {
      var o = el("option", null, f.label);
      o.value = f.name;
      $("f-flow").appendChild(o);
    });
  }).catch(function (e) { flash(e.message); });
  loadFigures();
  loadList();
})();
