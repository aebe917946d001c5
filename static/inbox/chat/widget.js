/* Switchboard chat widget: <script src="https://<workspace>/chat/widget.js" data-key="<public key>" defer></script>
 *
 * Vanilla JS, no dependencies. It draws a launcher button and a chat panel in an open shadow root (the host page's
 * styles cannot reach in), talks JSON to /chat/… and a websocket to /ws/chat/ on the workspace's host. Signed-in
 * visitors: data-email and data-user-hash (HMAC-SHA256 of the email with the workspace's identity secret), optional
 * data-name. Every text from the server or the visitor is set with textContent: nothing here parses HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-key][src*='/chat/widget.js']");
  if (!script || window.__switchboardChat) return;
  window.__switchboardChat = true;

  var base = new URL(script.src, document.baseURI);
  var key = script.getAttribute("data-key") || "";
  var identity = {
    email: script.getAttribute("data-email") || "",
    userHash: script.getAttribute("data-user-hash") || "",
    name: script.getAttribute("data-name") || "",
  };
  var storageKey = "switchboard-chat:" + base.host + ":" + key;
  var TYPING_EVERY_MS = 2000;
  var TYPING_SHOWN_MS = 5000;

  var config = null;
  var socket = null;
  var retries = 0;
  var seen = {};
  var lastTyping = 0;
  var typingTimer = null;
  var pendingFirst = "";

  // --- Small helpers -------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function endpoint(path, params) {
    var url = new URL("/chat/" + path, base);
    url.searchParams.set("key", key);
    Object.keys(params || {}).forEach(function (name) { url.searchParams.set(name, params[name]); });
    return url.toString();
  }

  function call(path, body) {
    var options = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    return fetch(endpoint(path), options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || "The chat is unavailable (" + response.status + ").");
        return data;
      });
    });
  }

  function token(value) {
    try {
      if (value === undefined) return window.localStorage.getItem(storageKey) || "";
      if (value) window.localStorage.setItem(storageKey, value);
      else window.localStorage.removeItem(storageKey);
    } catch (error) { /* storage refused (private mode): the chat lasts as long as the page */ }
    return value || "";
  }
  var memoryToken = "";
  function currentToken() { return token() || memoryToken; }
  function rememberToken(value) { memoryToken = value; token(value); }

  // --- The panel -------------------------------------------------------------------------------------

  var host = el("div", { id: "switchboard-chat" });
  var root = host.attachShadow({ mode: "open" });
  var css = [
    ":host{all:initial;--sb-colour:#0d6efd}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:14px}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;padding:12px 18px;",
    "color:#fff;background:var(--sb-colour);cursor:pointer;box-shadow:0 2px 10px rgba(0,0,0,.25)}",
    ".panel{position:fixed;right:20px;bottom:80px;z-index:2147483000;width:340px;max-width:calc(100vw - 40px);",
    "height:480px;max-height:calc(100vh - 120px);display:flex;flex-direction:column;background:#fff;color:#212529;",
    "border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.25);overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:8px;padding:12px;color:#fff;background:var(--sb-colour)}",
    "header h2{margin:0;font-size:15px;flex:1}",
    "header button{border:0;background:transparent;color:#fff;font-size:18px;cursor:pointer}",
    ".body{flex:1;overflow:auto;padding:12px}",
    ".log{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:6px}",
    ".log li{max-width:85%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}",
    ".log .customer{align-self:flex-end;background:var(--sb-colour);color:#fff}",
    ".log .agent{align-self:flex-start;background:#f1f3f5}",
    ".log .who{display:block;font-size:11px;opacity:.75}",
    ".typing{min-height:18px;padding:0 12px;font-size:12px;color:#495057}",
    "form{display:flex;flex-direction:column;gap:6px}",
    "label{font-size:12px;color:#495057}",
    "input,textarea{width:100%;padding:7px;border:1px solid #adb5bd;border-radius:6px;color:#212529;background:#fff}",
    "button.primary{padding:8px;border:0;border-radius:6px;color:#fff;background:var(--sb-colour);cursor:pointer}",
    "button.secondary{padding:6px;border:1px solid #adb5bd;border-radius:6px;background:#fff;color:#212529;cursor:pointer}",
    ".composer{display:flex;flex-direction:row;align-items:stretch;gap:6px;padding:8px;border-top:1px solid #dee2e6}",
    ".composer textarea{resize:none;height:40px}",
    ".note{margin:0 0 8px;color:#495057}",
    ".error{color:#b02a37}",
    ".suggest{margin:6px 0;padding:8px;border:1px solid #dee2e6;border-radius:8px}",
    ".suggest ul{margin:4px 0;padding-left:18px}",
    ".suggest a{color:#0a58ca}",
    ".suggest .actions{display:flex;gap:6px;flex-wrap:wrap}",
    ":focus-visible{outline:2px solid #000;outline-offset:2px}",
  ].join("");
  if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", { text: css }));
  }

  var launcher = el("button", {
    type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "sb-panel",
    "data-testid": "chat-launcher", text: "Chat with us",
  });
  var title = el("h2", { id: "sb-title", text: "Chat" });
  var close = el("button", { type: "button", "aria-label": "Close the chat", text: "×" });
  var body = el("div", { class: "body" });
  var typing = el("div", { class: "typing", role: "status", "aria-live": "polite", "data-testid": "chat-typing" });
  var panel = el("section", {
    id: "sb-panel", class: "panel", role: "dialog", "aria-labelledby": "sb-title", hidden: "", "data-testid": "chat-panel",
  }, [el("header", {}, [title, close]), body, typing]);
  root.appendChild(launcher);
  root.appendChild(panel);

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      if (!config) start();
      var first = panel.querySelector("input,textarea");
      if (first) first.focus();
    } else {
      launcher.focus();
    }
  }
  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  close.addEventListener("click", function () { toggle(false); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") toggle(false); });

  function show(nodes) {
    body.textContent = "";
    nodes.forEach(function (node) { body.appendChild(node); });
    var first = body.querySelector("input,textarea");
    if (first && !panel.hidden) first.focus();
  }

  function problem(message) {
    var line = el("p", { class: "error", role: "alert", "data-testid": "chat-error", text: message });
    body.appendChild(line);
    return line;
  }

  function field(label, name, type, required, value) {
    var id = "sb-" + name;
    var input = type === "textarea"
      ? el("textarea", { id: id, name: name, rows: "3" })
      : el("input", { id: id, name: name, type: type });
    if (required) input.required = true;
    if (value) input.value = value;
    input.setAttribute("data-testid", "chat-" + name);
    return [el("label", { for: id, text: label }), input];
  }

  // --- Deflection: articles offered while the visitor types their question -------------------------

  function suggestions(textarea, container) {
    var timer = null;
    var shown = "";
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var query = textarea.value.trim();
        if (query.length < 4 || query === shown) return;
        fetch(endpoint("suggest/", { q: query.slice(0, 500) })).then(function (response) {
          return response.ok ? response.json() : { articles: [] };
        }).then(function (data) {
          shown = query;
          offer(query, data.articles || [], container);
        }).catch(function () { /* suggestions are an extra */ });
      }, 400);
    });
  }

  function offer(query, articles, container) {
    container.textContent = "";
    if (!articles.length) return;
    var list = el("ul");
    articles.forEach(function (article) {
      var link = el("a", { href: article.url, target: "_blank", rel: "noopener", text: article.title });
      list.appendChild(el("li", {}, [link]));
    });
    var yes = el("button", { type: "button", class: "secondary", "data-testid": "chat-helped", text: "This answered my question" });
    var no = el("button", { type: "button", class: "secondary", "data-testid": "chat-not-helped", text: "I still need help" });
    var box = el("div", { class: "suggest", role: "region", "aria-label": "Articles that may help", "data-testid": "chat-suggestions" }, [
      el("p", { class: "note", text: "These articles may answer your question:" }), list, el("div", { class: "actions" }, [yes, no]),
    ]);
    function answer(helped) {
      call("deflection/", {
        query: query.slice(0, 500), helped: helped, token: currentToken(),
        article_ids: articles.map(function (article) { return article.id; }),
      }).catch(function () {});
      container.textContent = "";
      if (helped) show([el("p", { role: "status", "data-testid": "chat-glad", text: "Glad it helped! Open the chat again any time." })]);
    }
    yes.addEventListener("click", function () { answer(true); });
    no.addEventListener("click", function () { answer(false); });
    container.appendChild(box);
  }

  // --- The flow: config → (offline form | pre-chat form | chat) ------------------------------------

  function start() {
    show([el("p", { class: "note", text: "Connecting…" })]);
    call("config/").then(function (data) {
      config = data;
      host.style.setProperty("--sb-colour", /^#[0-9a-fA-F]{6}$/.test(data.colour) ? data.colour : "#0d6efd");
      title.textContent = data.greeting || "Chat";
      if (currentToken()) return chat();
      if (!data.online) return offlineForm();
      if (identity.email && identity.userHash) return begin({ name: identity.name }, "");
      if (data.prechat_form) return prechatForm();
      chat();
    }).catch(function (error) {
      show([]);
      problem(error.message);
      config = null;
    });
  }

  function prechatForm() {
    var hints = el("div");
    var parts = [].concat(
      field("Your name", "name", "text", true, identity.name),
      field("Your email", "email", "email", true, identity.email),
      field("Your question", "question", "textarea", true)
    );
    var form = el("form", { "data-testid": "chat-prechat", "aria-label": "Start a chat" }, parts.concat([
      hints, el("button", { type: "submit", class: "primary", "data-testid": "chat-start", text: "Start the chat" }),
    ]));
    suggestions(parts[5], hints);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      begin({ name: form.elements.name.value, email: form.elements.email.value }, form.elements.question.value);
    });
    show([el("p", { class: "note", text: config.greeting }), form]);
  }

  function offlineForm() {
    var hints = el("div");
    var parts = [].concat(
      field("Your name", "name", "text", false, identity.name),
      field("Your email", "email", "email", true, identity.email),
      field("Your question", "question", "textarea", true)
    );
    var form = el("form", { "data-testid": "chat-offline", "aria-label": "Leave a message" }, parts.concat([
      hints, el("button", { type: "submit", class: "primary", "data-testid": "chat-leave", text: "Send" }),
    ]));
    suggestions(parts[5], hints);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      call("offline/", {
        name: form.elements.name.value, email: form.elements.email.value, body: form.elements.question.value,
        token: currentToken(),
      }).then(function () {
        show([el("p", { role: "status", "data-testid": "chat-left", text: "Thanks! We will answer by email." })]);
      }).catch(function (error) { problem(error.message); });
    });
    show([el("p", { class: "note", "data-testid": "chat-nobody", text: "Nobody is online right now. Leave your email and question: we will answer by email." }), form]);
  }

  function begin(details, firstMessage) {
    var payload = { name: details.name || "", email: details.email || "" };
    if (identity.email && identity.userHash) {
      payload.email = identity.email;
      payload.user_hash = identity.userHash;
    }
    return call("session/", payload).then(function (data) {
      rememberToken(data.token);
      pendingFirst = firstMessage || "";
      chat();
    }).catch(function (error) { problem(error.message); });
  }

  // --- The chat -------------------------------------------------------------------------------------

  var log = el("ul", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages", "data-testid": "chat-log" });
  var input = el("textarea", { id: "sb-message", "aria-label": "Your message", placeholder: "Write a message…", "data-testid": "chat-input" });
  var send = el("button", { type: "submit", class: "primary", "data-testid": "chat-send", text: "Send" });
  var composer = el("form", { class: "composer", "aria-label": "Send a message" }, [input, send]);

  function chat() {
    show([log]);
    if (!panel.contains(composer)) panel.insertBefore(composer, typing.nextSibling);
    connect();
  }

  function append(entry) {
    if (entry.id && seen[entry.id]) return;
    if (entry.id) seen[entry.id] = true;
    var who = entry.author === "agent" ? (entry.name || "Support") : "You";
    var item = el("li", { class: entry.author === "agent" ? "agent" : "customer", "data-testid": "chat-message-" + entry.author }, [
      el("span", { class: "who", text: who }), document.createTextNode(entry.body),
    ]);
    log.appendChild(item);
    body.scrollTop = body.scrollHeight;
    if (entry.author === "agent") typing.textContent = "";
  }

  function connect() {
    if (!currentToken()) return;  // no session yet: the first message starts one
    if (socket && socket.readyState <= 1) return;
    var url = new URL("/ws/chat/", base);
    url.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("key", key);
    url.searchParams.set("token", currentToken());
    socket = new WebSocket(url.toString());
    socket.addEventListener("open", function () {
      retries = 0;
      if (pendingFirst) { socket.send(JSON.stringify({ type: "message", body: pendingFirst })); pendingFirst = ""; }
    });
    socket.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (error) { return; }
      if (data.type === "thread") data.entries.forEach(append);
      else if (data.type === "message") append(data);
      else if (data.type === "typing") {
        typing.textContent = (data.name || "Support") + " is typing…";
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typing.textContent = ""; }, TYPING_SHOWN_MS);
      } else if (data.type === "error") problem(data.error);
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4401) {  // the session is gone: start over
        rememberToken("");
        config = null;
        composer.remove();
        start();
        return;
      }
      if (event.code === 1000) return;
      retries += 1;
      setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, retries)));
    });
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    if (!currentToken()) { begin({ name: identity.name }, text); return; }
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "message", body: text }));
    else { pendingFirst = text; connect(); }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (socket && socket.readyState === 1 && now - lastTyping > TYPING_EVERY_MS) {
      lastTyping = now;
      socket.send(JSON.stringify({ type: "typing" }));
    }
  });

  function mount() { document.body.appendChild(host); }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
