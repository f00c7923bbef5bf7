/*
 * QuickConnect chat widget. Embed with ONE tag:
 *   <script src="https://<rasa-host>/webhooks/webchat/widget.js" defer></script>
 * It loads its stylesheet from the same place, opens a WebSocket to .../webhooks/webchat/ws
 * and keeps the server-issued session token in localStorage, so a reload continues the chat.
 * Protocol: README "Mobile app protocol".
 */
(function () {
  "use strict";
  if (window.QuickConnectChat) return;
  var script = document.currentScript;
  var base = new URL(".", script ? script.src : location.href);
  var wsUrl = base.href.replace(/^http/, "ws") + "ws";
  var STORE = "qc-chat-session";
  var OPEN = "qc-chat-open";
  var title = (script && script.dataset.title) || "QuickConnect Support";

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("widget.css", base).href;
  document.head.appendChild(css);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    if (text) node.textContent = text;
    return node;
  }

  var root = el("div", { class: "qc-chat", id: "qc-chat" });
  var launcher = el("button", {
    class: "qc-launcher", type: "button", "aria-expanded": "false", "aria-controls": "qc-panel"
  });
  launcher.appendChild(el("span", { class: "qc-launcher-icon", "aria-hidden": "true" }, "\uD83D\uDCAC"));
  launcher.appendChild(el("span", { class: "qc-launcher-text" }, "Chat with us"));
  var panel = el("section", {
    class: "qc-panel", id: "qc-panel", role: "dialog", "aria-labelledby": "qc-title", hidden: ""
  });
  var header = el("header", { class: "qc-header" });
  var heading = el("div", { class: "qc-heading" });
  heading.appendChild(el("h2", { id: "qc-title", class: "qc-title" }, title));
  var status = el("p", { class: "qc-status", id: "qc-status" }, "Virtual assistant");
  heading.appendChild(status);
  var closeBtn = el("button", { class: "qc-close", type: "button", "aria-label": "Close chat" }, "\u00D7");
  header.appendChild(heading);
  header.appendChild(closeBtn);
  var log = el("div", {
    class: "qc-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": "Conversation", tabindex: "0"
  });
  var typing = el("div", { class: "qc-typing", "aria-live": "polite", hidden: "" });
  var form = el("form", { class: "qc-form", autocomplete: "off" });
  var label = el("label", { for: "qc-input", class: "qc-sr-only" }, "Type your message");
  var input = el("input", {
    id: "qc-input", class: "qc-input", type: "text", maxlength: "2000",
    placeholder: "Type your message\u2026", "aria-describedby": "qc-status"
  });
  var send = el("button", { class: "qc-send", type: "submit" }, "Send");
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);
  document.body.appendChild(root);

  var ws = null;
  var ready = false;
  var outbox = [];
  var retry = 500;
  var typingTimer = null;
  var sentTyping = false;

  function scroll() { log.scrollTop = log.scrollHeight; }

  function setStatus(state, agentName) {
    root.dataset.state = state || "bot";
    if (state === "agent") status.textContent = "Chatting with " + (agentName || "an agent");
    else if (state === "queued") status.textContent = "Waiting for an agent\u2026";
    else status.textContent = "Virtual assistant";
  }

  function clearButtons() {
    Array.prototype.forEach.call(log.querySelectorAll(".qc-buttons"), function (group) {
      group.remove();
    });
  }

  function render(msg) {
    if (msg.from === "action") return;
    var who = msg.from || "bot";
    var row = el("div", { class: "qc-msg qc-from-" + who });
    if (msg.event) row.dataset.event = msg.event;
    var sr = who === "user" ? "You said: " : who === "agent" ? (msg.agent_name || "Agent") + ": " :
      who === "system" ? "" : "Assistant: ";
    if (sr) row.appendChild(el("span", { class: "qc-sr-only" }, sr));
    if (who === "agent") row.appendChild(el("span", { class: "qc-name", "aria-hidden": "true" }, msg.agent_name || "Agent"));
    row.appendChild(el("span", { class: "qc-bubble" }, msg.text || ""));
    clearButtons();
    log.appendChild(row);
    if (msg.buttons && msg.buttons.length) {
      var group = el("div", { class: "qc-buttons", role: "group", "aria-label": "Suggested replies" });
      msg.buttons.forEach(function (b) {
        var btn = el("button", { type: "button", class: "qc-button" }, b.title);
        btn.addEventListener("click", function () {
          group.remove();
          say(b.title, b.payload);
        });
        group.appendChild(btn);
      });
      log.appendChild(group);
    }
    scroll();
  }

  function showTyping(on, who) {
    if (on) {
      typing.textContent = (who || "The assistant") + " is typing\u2026";
      typing.hidden = false;
    } else {
      typing.hidden = true;
      typing.textContent = "";
    }
  }

  function transmit(frame) {
    if (ready && ws && ws.readyState === 1) ws.send(JSON.stringify(frame));
    else if (frame.type === "message") outbox.push(frame);
  }

  function say(text, payload) {
    text = (text || "").trim();
    if (!text) return;
    render({ from: "user", text: text });
    var frame = { type: "message", text: text };
    if (payload && payload !== text) frame.payload = payload;
    transmit(frame);
  }

  function onFrame(event) {
    var frame;
    try { frame = JSON.parse(event.data); } catch (e) { return; }
    if (frame.type === "welcome") {
      localStorage.setItem(STORE, frame.session);
      ready = true;
      retry = 500;
      log.textContent = "";
      (frame.history || []).forEach(render);
      if (!log.children.length) {
        render({ from: "bot", text: "Hi! I'm QuickConnect's virtual assistant. Ask me about your plan, add-ons, device protection, your account or your service. Type \u201Cagent\u201D any time to talk to a person." });
      }
      setStatus(frame.state, frame.agent_name);
      var pending = outbox;
      outbox = [];
      pending.forEach(function (f) {
        render({ from: "user", text: f.text }); // the log was redrawn from the history
        transmit(f);
      });
    } else if (frame.type === "message") {
      if (frame.from !== "user") showTyping(false);
      render(frame);
      if (frame.event === "agent_joined") setStatus("agent", frame.agent_name);
      if (frame.event === "agent_left") setStatus("bot");
    } else if (frame.type === "typing") {
      if (frame.from === "bot") {
        if (frame.on) root.dataset.busy = "1"; else delete root.dataset.busy;
      }
      showTyping(frame.on, frame.from === "agent" ? frame.agent_name || "The agent" : "The assistant");
    } else if (frame.type === "status") {
      setStatus(frame.state, frame.agent_name);
    }
  }

  function connect() {
    ready = false;
    ws = new WebSocket(wsUrl);
    ws.addEventListener("open", function () {
      ws.send(JSON.stringify({ type: "hello", session: localStorage.getItem(STORE) }));
    });
    ws.addEventListener("message", onFrame);
    ws.addEventListener("close", function () {
      ready = false;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    });
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("qc-open");
    localStorage.setItem(OPEN, "1");
    scroll();
    input.focus({ preventScroll: true });
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("qc-open");
    localStorage.removeItem(OPEN);
    launcher.focus();
  }

  launcher.addEventListener("click", function () { panel.hidden ? open() : close(); });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    say(input.value);
    input.value = "";
    if (sentTyping) { transmit({ type: "typing", on: false }); sentTyping = false; }
  });
  input.addEventListener("input", function () {
    if (!sentTyping) { transmit({ type: "typing", on: true }); sentTyping = true; }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { transmit({ type: "typing", on: false }); sentTyping = false; }, 2500);
  });

  connect();
  if (localStorage.getItem(OPEN)) open();
  window.QuickConnectChat = { open: open, close: close, say: say };
})();
