/* QuickConnect agent console: sign in (HttpOnly cookie), live queue over a WebSocket, take a
 * chat, reply, internal notes, resolve or hand back. Every call goes through the JSON API
 * under ./agent/api/ with the session cookie; nothing secret is ever put in a URL. */
(function () {
  "use strict";
  var base = new URL(".", location.href); // .../webhooks/webchat/
  var api = new URL("agent/api/", base).href;
  var wsUrl = new URL("agent/ws", base).href.replace(/^http/, "ws");
  var $ = function (id) { return document.getElementById(id); };
  var me = null;
  var ws = null;
  var items = [];
  var current = null; // case number on screen
  var currentCase = null;
  var typingTimer = null;
  var sentTyping = false;

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }

  function flash(text) {
    $("flash").textContent = text;
    clearTimeout(flash.t);
    flash.t = setTimeout(function () { $("flash").textContent = ""; }, 4000);
  }

  function call(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path.indexOf("http") === 0 ? path : api + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 401) { showLogin(); throw new Error(data.error || "signed out"); }
        if (!r.ok) throw new Error(data.error || ("HTTP " + r.status));
        return data;
      });
    });
  }

  function showLogin() {
    me = null;
    if (ws) { ws.onclose = null; ws.close(); ws = null; }
    $("console-view").hidden = true;
    $("login-view").hidden = false;
    $("username").focus();
  }

  function showConsole(agent) {
    me = agent;
    $("me-name").textContent = agent.name;
    $("lead-link").hidden = agent.role !== "lead"; // the page itself checks the role too
    $("login-view").hidden = true;
    $("console-view").hidden = false;
    connect();
    loadLockouts();
  }

  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    $("login-error").textContent = "";
    fetch(new URL("agent/login", base).href, {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value })
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.error || "Sign-in failed.");
        $("password").value = "";
        return call("GET", "me").then(showConsole);
      });
    }).catch(function (err) { $("login-error").textContent = err.message; });
  });

  $("logout").addEventListener("click", function () {
    fetch(new URL("agent/logout", base).href, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: "{}" }).finally(showLogin);
  });

  function connect() {
    ws = new WebSocket(wsUrl);
    ws.onopen = function () { $("conn").textContent = "online"; };
    ws.onmessage = function (event) {
      var f;
      try { f = JSON.parse(event.data); } catch (e) { return; }
      if (f.type === "queue") { items = f.items; renderQueue(); }
      else if (f.type === "customer_message" && f.case_number === current) {
        addLine(f.message); $("cust-typing").textContent = "";
      } else if (f.type === "customer_message") { flash("New message on " + f.case_number); }
      else if (f.type === "typing" && f.case_number === current) {
        $("cust-typing").textContent = f.on ? "Customer is typing\u2026" : "";
      }
    };
    ws.onclose = function (e) {
      $("conn").textContent = "reconnecting\u2026";
      if (e.code === 4401) { showLogin(); return; }
      setTimeout(function () { if (me) connect(); }, 1500);
    };
  }
  setInterval(function () {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: "ping" }));
  }, 30000);

  function fmtWait(item) {
    var start = item.queued_at ? Date.parse(item.queued_at) : Date.now() - item.waiting_seconds * 1000;
    var s = Math.max(0, Math.round((Date.now() - start) / 1000));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  var REASONS = {
    customer_request: "Asked for a person", verification_failed: "Verification failed",
    repeated_misunderstanding: "Bot misunderstood", guide_escalation: "Guide escalation",
    system_error: "System error"
  };

  function renderQueue() {
    var list = $("queue");
    list.textContent = "";
    var waiting = items.filter(function (i) { return i.chat_state === "queued"; }).length;
    $("queue-count").textContent = waiting;
    $("queue-empty").hidden = items.length > 0;
    items.forEach(function (item) {
      var li = el("li", "qitem" + (item.case_number === current ? " current" : ""));
      li.dataset.case = item.case_number;
      var top = el("div", "top");
      top.appendChild(el("span", "case", item.case_number));
      var wait = el("span", "wait", item.chat_state === "queued" ? "waiting " + fmtWait(item) : "with " + item.agent_name);
      wait.dataset.wait = item.chat_state === "queued" ? "1" : "";
      top.appendChild(wait);
      li.appendChild(top);
      var meta = el("div", "meta");
      meta.appendChild(el("span", "badge", REASONS[item.reason] || item.reason));
      meta.appendChild(el("span", "badge " + (item.verified ? "ok" : "no"),
        item.verified ? "Verified " + item.verified_account : "Not verified"));
      li.appendChild(meta);
      li.appendChild(el("p", "summary", item.summary));
      var row = el("div", "row");
      if (item.chat_state === "queued") {
        var take = el("button", "primary", "Take chat");
        take.type = "button";
        take.setAttribute("aria-label", "Take chat " + item.case_number);
        take.addEventListener("click", function () { takeCase(item.case_number); });
        row.appendChild(take);
      }
      var open = el("button", "ghost", "View");
      open.type = "button";
      open.setAttribute("aria-label", "View " + item.case_number);
      open.addEventListener("click", function () { openCase(item.case_number); });
      row.appendChild(open);
      li.appendChild(row);
      list.appendChild(li);
    });
  }
  setInterval(function () {
    Array.prototype.forEach.call(document.querySelectorAll(".qitem"), function (li) {
      var item = items.find(function (i) { return i.case_number === li.dataset.case; });
      var w = li.querySelector(".wait");
      if (item && w && w.dataset.wait) w.textContent = "waiting " + fmtWait(item);
    });
  }, 1000);

  function addLine(m) {
    var who = m.from;
    var line = el("div", "line " + who);
    var label = who === "user" ? "Customer" : who === "agent" ? (m.agent_name || "Agent") :
      who === "bot" ? "Assistant" : "";
    if (label) line.appendChild(el("span", "who", label));
    line.appendChild(el("span", "text", who === "action" ? "bot ran " + m.text : m.text));
    if (who === "user" && m.ts && current) { // send a misread line to the lead's NLU inbox
      var mark = el("button", "ghost mark", "Bot misunderstood");
      var caseNumber = current;
      mark.addEventListener("click", function () {
        call("POST", "cases/" + caseNumber + "/misunderstood", { ts: m.ts })
          .then(function () { mark.disabled = true; mark.textContent = "Sent to the NLU inbox"; })
          .catch(function (err) { flash(err.message); });
      });
      line.appendChild(mark);
    }
    var t = $("transcript");
    t.appendChild(line);
    t.scrollTop = t.scrollHeight;
  }

  function renderContext(c) {
    currentCase = c;
    var box = $("context");
    box.textContent = "";
    box.className = "ctx";
    var dl = el("dl");
    function row(k, v) { dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", null, v)); }
    row("Case", c.case_number);
    row("Status", c.status + (c.chat_state === "agent" ? " (live)" : ""));
    row("Reason", REASONS[c.reason] || c.reason);
    row("Verified", c.verified ? "Yes" : "No");
    if (c.customer) {
      row("Customer", c.customer.name);
      row("Account", c.customer.account_number);
      row("Email", c.customer.email);
      row("Phone", c.customer.phone);
      row("Prefers", c.customer.preferred_contact);
    }
    if (c.follow_up) {
      row("Follow up", (c.follow_up.channel === "sms" ? "Phone / SMS: " : "Email: ") + c.follow_up.contact);
    }
    box.appendChild(dl);
    box.appendChild(el("p", "summary", c.summary));
    var slots = Object.keys(c.slots || {});
    if (slots.length) {
      box.appendChild(el("h3", null, "Conversation context"));
      var sl = el("dl");
      slots.forEach(function (k) {
        sl.appendChild(el("dt", null, k.replace(/_/g, " ")));
        sl.appendChild(el("dd", null, typeof c.slots[k] === "object" ? JSON.stringify(c.slots[k]) : String(c.slots[k])));
      });
      box.appendChild(sl);
    }
    $("notes-box").hidden = false;
    renderNotes(c.notes || []);
    var mine = c.chat_state === "agent";
    $("reply-form").hidden = !mine;
    $("chat-actions").hidden = !mine;
    if (!mine) $("resolve-form").hidden = true;
  }

  function renderNotes(notes) {
    var ul = $("notes");
    ul.textContent = "";
    notes.forEach(function (n) {
      var li = el("li", null, n.body);
      li.appendChild(el("small", null, (n.agent_name || "") + " \u00B7 " + new Date(n.created_at).toLocaleTimeString()));
      ul.appendChild(li);
    });
  }

  function showCase(data) {
    current = data.case.case_number;
    $("chat-title").textContent = "Chat " + current;
    var t = $("transcript");
    t.textContent = "";
    data.transcript.forEach(addLine);
    renderContext(data.case);
    renderQueue();
  }

  function openCase(number) {
    return call("GET", "cases/" + encodeURIComponent(number)).then(showCase).catch(function (e) { flash(e.message); });
  }

  function takeCase(number) {
    return call("POST", "cases/" + encodeURIComponent(number) + "/take", {}).then(function (data) {
      showCase(data);
      $("reply").focus();
    }).catch(function (e) { flash(e.message); });
  }

  $("reply-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("reply").value.trim();
    if (!text || !current) return;
    $("reply").value = "";
    call("POST", "cases/" + encodeURIComponent(current) + "/reply", { text: text })
      .then(function (d) { addLine(d.message); })
      .catch(function (err) { flash(err.message); $("reply").value = text; });
    sendTyping(false);
  });

  function sendTyping(on) {
    if (ws && ws.readyState === 1 && current) ws.send(JSON.stringify({ type: "typing", case_number: current, on: on }));
    sentTyping = on;
  }
  $("reply").addEventListener("input", function () {
    if (!sentTyping) sendTyping(true);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { sendTyping(false); }, 2500);
  });

  $("note-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("note").value.trim();
    if (!text || !current) return;
    call("POST", "cases/" + encodeURIComponent(current) + "/note", { text: text }).then(function (d) {
      $("note").value = "";
      renderNotes(d.notes);
      flash("Note saved (internal)");
    }).catch(function (err) { flash(err.message); });
  });

  function closeChat(kind, note) {
    var number = current;
    return call("POST", "cases/" + encodeURIComponent(number) + "/" + kind, { note: note }).then(function () {
      flash(kind === "resolve" ? "Case " + number + " resolved" : "Chat " + number + " handed back to the bot");
      $("resolve-form").hidden = true;
      return openCase(number);
    }).catch(function (err) { flash(err.message); });
  }
  $("handback").addEventListener("click", function () { closeChat("handback", ""); });
  $("resolve-open").addEventListener("click", function () {
    $("resolve-form").hidden = false;
    $("resolve-note").focus();
  });
  $("resolve-cancel").addEventListener("click", function () { $("resolve-form").hidden = true; });
  $("resolve-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var note = $("resolve-note").value.trim();
    if (!note) { flash("Write a resolution note first"); return; }
    closeChat("resolve", note).then(function () { $("resolve-note").value = ""; });
  });

  // Verification lockouts (quickconnect/services/identity.py): list, and clear with a note.
  function renderLockouts(list) {
    var ul = $("lockouts");
    ul.textContent = "";
    $("lockout-count").textContent = list.length;
    $("lockouts-empty").hidden = list.length > 0;
    list.forEach(function (l) {
      var li = el("li", "qitem lockout");
      li.dataset.lockout = l.id;
      var top = el("div", "top");
      top.appendChild(el("span", "case", l.account_number));
      top.appendChild(el("span", "wait", l.customer_name));
      li.appendChild(top);
      li.appendChild(el("p", "summary", l.failures + " failed attempts; paused until " +
        new Date(l.locked_until).toLocaleString() + (l.holder_notified ? "; holder notified" : "")));
      var row = el("div", "row");
      var clear = el("button", "ghost", "Clear");
      clear.type = "button";
      clear.setAttribute("aria-label", "Clear lockout of " + l.account_number);
      clear.addEventListener("click", function () {
        var note = window.prompt("How did you confirm who the customer is? (saved on the record)");
        if (!note || !note.trim()) return;
        call("POST", "lockouts/" + encodeURIComponent(l.id) + "/clear", { note: note.trim() })
          .then(function (d) { flash("Lockout of " + l.account_number + " cleared"); renderLockouts(d.items); })
          .catch(function (err) { flash(err.message); });
      });
      row.appendChild(clear);
      li.appendChild(row);
      ul.appendChild(li);
    });
  }
  function loadLockouts() {
    if (!me) return;
    call("GET", "lockouts").then(function (d) { renderLockouts(d.items); }).catch(function () {});
  }
  setInterval(loadLockouts, 30000);

  fetch(api + "me", { credentials: "same-origin" }).then(function (r) {
    if (r.ok) return r.json().then(showConsole);
    showLogin();
  }).catch(showLogin);
})();
