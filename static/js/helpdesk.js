// The agent workspace: keyboard shortcuts, bulk selection, live rows and ticket refreshes, presence.
// The composer: Write/Preview tabs, attachments dropped or pasted into the file input, "send and next".
// Shortcuts of the ticket pages (listed in the "?" help, templates/components/shortcuts.html; the keys of every page
// are in static/js/switchboard.js) never fire while the person types in a field, except Ctrl+Enter in the composer.
(function () {
  "use strict";

  const REPLYING_IDLE_MS = 8000;
  const typing = window.sbTyping;  // static/js/switchboard.js, which also handles "?", "/" and "g l"

  function csrfHeaders() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (error) { return {}; }
  }

  // --- Ticket list: keyboard cursor ----------------------------------------------------------------------

  function rows() { return Array.from(document.querySelectorAll("#ticket-rows tr[data-ticket-id]")); }

  function moveCursor(step) {
    const all = rows();
    if (!all.length) { return; }
    const current = all.findIndex(function (row) { return row.classList.contains("sb-cursor"); });
    const next = current < 0 ? 0 : Math.min(Math.max(current + step, 0), all.length - 1);
    all.forEach(function (row) { row.classList.remove("sb-cursor"); row.removeAttribute("aria-current"); });
    all[next].classList.add("sb-cursor");
    all[next].setAttribute("aria-current", "true");
    all[next].scrollIntoView({ block: "nearest" });
  }

  function cursorRow() { return document.querySelector("#ticket-rows tr.sb-cursor"); }

  // --- Ticket list: bulk selection -------------------------------------------------------------------------

  function selectedBoxes() { return Array.from(document.querySelectorAll("#ticket-rows [data-row-select]:checked")); }

  function refreshBulkBar() {
    const bar = document.getElementById("ticket-bulk-bar");
    if (!bar) { return; }
    const boxes = selectedBoxes();
    bar.hidden = boxes.length === 0;
    bar.querySelector("[data-bulk-count]").textContent = boxes.length + " selected";
    const target = bar.querySelector("[data-bulk-target]");
    const chosen = target.value;
    target.replaceChildren(...boxes.map(function (box) {
      const row = box.closest("tr");
      const link = row.querySelector(".sb-subject a");
      const option = new Option("#" + row.dataset.ticketId + " " + (link ? link.textContent : ""), row.dataset.ticketId);
      option.selected = row.dataset.ticketId === chosen;
      return option;
    }));
    showBulkControl(bar);
  }

  function showBulkControl(bar) {
    const action = bar.querySelector("[data-bulk-action]").value;
    bar.querySelectorAll("[data-bulk-for]").forEach(function (control) {
      const active = control.dataset.bulkFor === action;
      control.hidden = !active;
      control.disabled = !active; // only the chosen action's value is sent
    });
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches("[data-row-select]")) { refreshBulkBar(); }
    if (target.matches("[data-select-all]")) {
      rows().forEach(function (row) { const box = row.querySelector("[data-row-select]"); if (box) { box.checked = target.checked; } });
      refreshBulkBar();
    }
    if (target.matches("[data-bulk-action]")) { showBulkControl(target.closest("#ticket-bulk-bar")); }
    if (target.matches("[data-show-history]")) { showHistory(target.checked, true); }
  });

  document.addEventListener("htmx:confirm", function (event) {
    const form = event.detail.elt;
    if (!form || form.id !== "ticket-bulk") { return; }
    const action = document.querySelector("[data-bulk-action]");
    if (action && action.value === "merge") {
      event.preventDefault();
      if (window.confirm(form.dataset.mergeConfirm)) { event.detail.issueRequest(true); }
    }
  });

  // --- Live rows: a pushed row goes into this list only if it matches the list's filters --------------------

  function rowMatches(tbody, row) {
    const filter = tbody.dataset;
    const data = row.dataset;
    const unsolved = ["new", "open", "pending", "on_hold"];
    const status = filter.filterStatus;
    if (status === "unsolved" && !unsolved.includes(data.status)) { return false; }
    if (status === "done" && !["solved", "closed"].includes(data.status)) { return false; }
    if (status && status !== "unsolved" && status !== "done" && status !== data.status) { return false; }
    const exact = [["filterPriority", "priority"], ["filterTeam", "team"], ["filterCategory", "category"],
      ["filterChannel", "channel"], ["filterCustomer", "customer"], ["filterRequester", "requester"], ["filterAssignee", "assignee"]];
    for (const [filterKey, dataKey] of exact) {
      const wanted = filter[filterKey];
      if (!wanted) { continue; }
      if (wanted === "none" ? data[dataKey] !== "" : wanted !== data[dataKey]) { return false; }
    }
    if (filter.filterTag && !(data.tags || "").split(" ").includes(filter.filterTag)) { return false; }
    if (filter.filterBreaching && !["soon", "breached"].includes(data.dueState)) { return false; }
    // Full-text matches are the database's to decide: a searching list never takes pushed rows.
    return !filter.filterQ;
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    const target = event.detail.target;
    const fragment = event.detail.fragment;
    const row = fragment && fragment.querySelector ? fragment.querySelector("tr[data-ticket-id]") : null;
    if (!row || !target) { return; }
    if (target.id === "ticket-rows") {
      const tbody = target;
      const known = document.getElementById(row.id);
      if (known || tbody.dataset.liveInserts !== "true" || !rowMatches(tbody, row)) {
        event.preventDefault();
        if (!known && tbody.dataset.liveInserts !== "true") {
          const bar = document.getElementById("ticket-new-bar");
          if (bar) { bar.hidden = false; }
        }
      }
    } else if (target.matches("tr[data-ticket-id]")) {
      // A changed row stays where it is, dimmed when it no longer belongs to this list, until the next load.
      const tbody = target.closest("tbody");
      if (tbody && !rowMatches(tbody, row)) { row.classList.add("sb-row-gone"); }
      if (target.classList.contains("sb-cursor")) { row.classList.add("sb-cursor"); }
      const box = target.querySelector("[data-row-select]");
      const fresh = row.querySelector("[data-row-select]");
      if (box && fresh) { fresh.checked = box.checked; }
    }
  });

  // --- Ticket page: topic, presence, live refresh -----------------------------------------------------------

  let socket = null;
  let presence = "viewing";
  let idleTimer = null;

  function ticketPage() { return document.getElementById("ticket-page"); }

  function send(message) { if (socket) { socket.send(JSON.stringify(message)); } }

  function setPresence(state) {
    if (state === presence) { return; }
    presence = state;
    send({ presence: state });
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    const page = ticketPage();
    if (!page) { return; }
    socket = event.detail.socketWrapper;
    // The socket URL names the ticket's topic (joined before the socket opens); a reconnect repeats what this
    // person is doing.
    send({ presence: presence });
  });

  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-composer-body]")) { return; }
    setPresence(event.target.value.trim() ? "replying" : "viewing");
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () { setPresence("viewing"); }, REPLYING_IDLE_MS);
  });

  function editing() {
    const active = document.activeElement;
    const header = document.getElementById("ticket-header");
    return Boolean(header && active && header.contains(active) && active.matches("[data-inline-edit]") && active.value !== active.defaultValue);
  }

  // A pushed refresh reloads the header and thread, unless the person is in the middle of editing the header:
  // then a bar offers the reload instead of overwriting what they type.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail.elt;
    if (elt && elt.id === "ticket-refresh" && editing()) {
      event.preventDefault();
      const bar = document.getElementById("ticket-changed-bar");
      if (bar) {
        bar.hidden = false;
        if (elt.dataset.by) { bar.querySelector("[data-changed-text]").textContent = elt.dataset.by + " changed this ticket while you were editing."; }
      }
    }
  });

  // Responses can arrive out of order (a pushed refresh started before this page's own edit, answered after it):
  // a header older than the one shown never replaces it, nor do the thread, status hint and SLA card that come
  // with it. Requests aim at #ticket-header-slot, which is never replaced, so this check sees every answer.
  function olderThanShown(html) {
    const shown = document.getElementById("ticket-header");
    const incoming = /id="ticket-header"[^>]*data-version="(\d+)"/.exec(html || "");
    return Boolean(shown && incoming && Number(incoming[1]) < Number(shown.dataset.version || 0));
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    if (target && target.id === "ticket-header-slot" && olderThanShown(event.detail.serverResponse)) {
      event.detail.shouldSwap = false;
    }
  });

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    const incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (incoming && incoming.id === "ticket-header" && olderThanShown(incoming.outerHTML)) {
      event.detail.shouldSwap = false;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    const elt = event.detail.elt;
    if (elt && elt.matches && elt.matches("[data-composer]") && event.detail.successful) {
      clearTimeout(idleTimer);
      setPresence("viewing");
    }
  });

  function showHistory(on, remember) {
    const page = ticketPage();
    if (!page) { return; }
    page.classList.toggle("sb-show-history", on);
    const toggle = document.querySelector("[data-show-history]");
    if (toggle) { toggle.checked = on; }
    if (remember) { try { localStorage.setItem("sb-show-history", on ? "1" : ""); } catch (error) { /* private mode */ } }
  }

  document.addEventListener("DOMContentLoaded", function () {
    let remembered = "";
    try { remembered = localStorage.getItem("sb-show-history") || ""; } catch (error) { /* private mode */ }
    showHistory(Boolean(remembered), false);
  });

  document.addEventListener("click", function (event) {
    const dismiss = event.target.closest("[data-dismiss-alert]");
    if (dismiss) { dismiss.closest(".alert").remove(); }
  });

  function postField(values) {
    const page = ticketPage();
    const version = document.getElementById("ticket-version");
    if (!page || !page.dataset.canEdit || !version) { return; }
    htmx.ajax("POST", page.dataset.updateUrl, {
      target: "#ticket-header-slot",
      swap: "innerHTML",
      values: Object.assign({ version: version.value }, values),
      headers: csrfHeaders(),
    });
  }

  function composeAs(kind) {
    const radio = document.getElementById(kind === "note" ? "kind-note" : "kind-reply");
    const body = document.querySelector("[data-composer-body]");
    if (!radio || !body) { return false; }
    radio.checked = true;
    showWriteTab();
    body.focus();
    return true;
  }

  // --- Composer: Write / Preview, attachments by drop or paste, "send and next" -------------------------------

  function showWriteTab() {
    const tab = document.getElementById("composer-write-tab");
    if (tab && window.bootstrap && !tab.classList.contains("active")) { window.bootstrap.Tab.getOrCreateInstance(tab).show(); }
  }

  function composerFiles() { return document.querySelector("[data-composer-files]"); }

  // The chosen files live in the form's own file input (a DataTransfer rebuilt on each change), so the server
  // receives them exactly as if they had been picked with the file dialog.
  function setFiles(input, files) {
    const transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
    renderFileList(input);
  }

  function addFiles(files) {
    const input = composerFiles();
    if (!input || !files.length) { return; }
    setFiles(input, Array.from(input.files).concat(files));
  }

  function renderFileList(input) {
    const list = input.form.querySelector("[data-composer-file-list]");
    if (!list) { return; }
    list.replaceChildren(...Array.from(input.files).map(function (file, index) {
      const item = document.createElement("li");
      item.className = "list-inline-item badge text-bg-light border sb-file";
      item.setAttribute("data-testid", "composer-file");
      const name = document.createElement("span");
      name.textContent = file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB) ";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn-close btn-close-sm ms-1 align-middle";
      remove.setAttribute("aria-label", "Remove " + file.name);
      remove.dataset.removeFile = String(index);
      item.append(name, remove);
      return item;
    }));
  }

  function pastedName(file, index) {
    // Screenshots arrive as "image.png" (all alike): a name that says what and when.
    const extension = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
    return "pasted-" + stamp + (index ? "-" + index : "") + "." + extension;
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-composer-files]")) { renderFileList(event.target); }
  });

  document.addEventListener("click", function (event) {
    const remove = event.target.closest && event.target.closest("[data-remove-file]");
    if (!remove) { return; }
    const input = composerFiles();
    const index = Number(remove.dataset.removeFile);
    setFiles(input, Array.from(input.files).filter(function (file, position) { return position !== index; }));
    input.focus();
  });

  function dropZone(event) { return event.target.closest && event.target.closest("[data-composer-drop]"); }

  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      const zone = dropZone(event);
      if (!zone || !event.dataTransfer || !Array.from(event.dataTransfer.types).includes("Files")) { return; }
      event.preventDefault();
      zone.classList.add("sb-dragover");
    });
  });

  document.addEventListener("dragleave", function (event) {
    const zone = dropZone(event);
    if (zone && !zone.contains(event.relatedTarget)) { zone.classList.remove("sb-dragover"); }
  });

  document.addEventListener("drop", function (event) {
    const zone = dropZone(event);
    if (!zone || !event.dataTransfer || !event.dataTransfer.files.length) { return; }
    event.preventDefault();
    zone.classList.remove("sb-dragover");
    addFiles(Array.from(event.dataTransfer.files));
  });

  document.addEventListener("paste", function (event) {
    if (!event.target.matches || !event.target.matches("[data-composer-body]") || !event.clipboardData) { return; }
    const files = Array.from(event.clipboardData.files || []);
    if (!files.length) { return; }  // text pastes as text
    event.preventDefault();
    addFiles(files.map(function (file, index) {
      return file.name && file.name !== "image.png" ? file : new File([file], pastedName(file, index), { type: file.type });
    }));
  });

  // "Send and next" needs the list the agent came from: the list page remembers its query for this tab.
  const LIST_KEY = "sb-ticket-list";

  window.addEventListener("pagehide", function () {
    if (!document.getElementById("ticket-rows")) { return; }
    try { sessionStorage.setItem(LIST_KEY, window.location.search.replace(/^\?/, "")); } catch (error) { /* private mode */ }
  });

  function fillComposerList() {
    const field = document.querySelector("[data-composer-list]");
    if (!field || field.value) { return; }
    try { field.value = sessionStorage.getItem(LIST_KEY) || ""; } catch (error) { /* private mode */ }
  }

  document.addEventListener("DOMContentLoaded", fillComposerList);
  document.addEventListener("htmx:afterSettle", fillComposerList);

  // --- Keys ---------------------------------------------------------------------------------------------------

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (target.matches && target.matches("[data-composer-body]") && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      // Ctrl+Shift+Enter: send and open the next ticket of the list. A click (not requestSubmit) so that htmx
      // sends the button's name and value, as it does for a button the person clicked.
      const next = target.form.querySelector("[data-composer-next]");
      if (event.shiftKey && next) { next.click(); } else { target.form.requestSubmit(); }
      return;
    }
    if (target.matches && target.matches("[data-inline-edit]")) {
      if (event.key === "Enter") { event.preventDefault(); target.blur(); }
      if (event.key === "Escape") { target.value = target.defaultValue; target.blur(); }
      return;
    }
    if (typing(target)) { return; }  // Escape leaves the field (static/js/switchboard.js)
    if (event.ctrlKey || event.metaKey || event.altKey || document.querySelector(".modal.show")) { return; }
    const key = event.key;
    const onList = Boolean(document.getElementById("ticket-rows"));
    const onTicket = Boolean(ticketPage());
    let handled = true;
    if (onList && key === "j") { moveCursor(1); }
    else if (onList && key === "k") { moveCursor(-1); }
    else if (onList && (key === "o" || key === "Enter") && cursorRow()) { window.location.assign(cursorRow().querySelector(".sb-subject a").href); }
    else if (onList && key === "x" && cursorRow()) {
      const box = cursorRow().querySelector("[data-row-select]");
      if (box && box.offsetParent !== null) { box.checked = !box.checked; refreshBulkBar(); }
    }
    else if (onTicket && key === "r") { handled = composeAs("reply"); }
    else if (onTicket && key === "n") { handled = composeAs("note"); }
    else if (onTicket && key === "a") { postField({ assignee: "me" }); }
    else if (onTicket && key === "s") { postField({ status: "solved" }); }
    else { handled = false; }
    if (handled) { event.preventDefault(); }
  });
})();
