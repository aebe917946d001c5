/* @mentions in the ticket composer's internal notes: typing "@da" lists the teammates who match (name or email);
   ↑/↓ choose, Enter or Tab or a click inserts "@Dana Scully ". The list comes once from data-mention-url
   (notifications: people who work tickets). Delegated on the document: the composer is re-rendered by htmx. */
(function () {
  let people = null;
  let menu = null;
  let matches = [];
  let active = 0;
  let field = null;

  function isNote() {
    const note = document.getElementById("kind-note");
    return !note || note.checked;
  }
  function query(textarea) {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const found = before.match(/(?:^|\s)@([\w.\-]{0,30})$/);
    return found ? found[1].toLowerCase() : null;
  }
  async function load(url) {
    if (people === null) {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      people = response.ok ? (await response.json()).people : [];
    }
    return people;
  }
  function close() {
    if (menu) menu.remove();
    menu = null;
    matches = [];
  }
  function render(textarea) {
    if (menu) menu.remove();
    menu = null;
    if (!matches.length) return;
    menu = document.createElement("div");
    menu.className = "list-group position-absolute shadow-sm sb-mention-menu";
    menu.setAttribute("role", "listbox");
    menu.dataset.testid = "mention-menu";
    matches.forEach((person, index) => {
      const item = document.createElement("button");
      item.type = "button";
      item.className = "list-group-item list-group-item-action py-1 small" + (index === active ? " active" : "");
      item.textContent = person.name + " · " + person.email;
      item.addEventListener("mousedown", (event) => { event.preventDefault(); insert(textarea, person); });
      menu.appendChild(item);
    });
    textarea.parentElement.classList.add("position-relative");
    textarea.insertAdjacentElement("afterend", menu);
  }
  function insert(textarea, person) {
    const start = textarea.selectionStart;
    const before = textarea.value.slice(0, start).replace(/@([\w.\-]{0,30})$/, "@" + person.name + " ");
    textarea.value = before + textarea.value.slice(start);
    textarea.selectionStart = textarea.selectionEnd = before.length;
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    close();
  }
  document.addEventListener("input", async (event) => {
    const textarea = event.target;
    if (!(textarea instanceof HTMLTextAreaElement) || !textarea.dataset.mentionUrl || !isNote()) return;
    const typed = query(textarea);
    if (typed === null) { close(); return; }
    const everyone = await load(textarea.dataset.mentionUrl);
    field = textarea;
    active = 0;
    matches = everyone.filter((person) =>
      person.name.toLowerCase().split(/\s+/).some((part) => part.startsWith(typed)) ||
      person.name.toLowerCase().startsWith(typed) || person.email.toLowerCase().startsWith(typed)).slice(0, 8);
    render(textarea);
  });
  document.addEventListener("keydown", (event) => {
    if (!menu || event.target !== field) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      render(field);
      event.preventDefault();
    } else if (event.key === "Enter" || event.key === "Tab") {
      insert(field, matches[active]);
      event.preventDefault();
      event.stopPropagation();
    } else if (event.key === "Escape") {
      close();
      event.stopPropagation();
    }
  }, true);
  document.addEventListener("focusout", (event) => { if (event.target === field) setTimeout(close, 150); });
})();
