// Keyboard shortcuts on the chat page (listed in the dialog #shortcuts-help, and in docs/chat.md):
// Ctrl+Shift+O a new chat, Ctrl+K or / the sidebar's search, Alt+Up/Down the previous or next chat
// of the sidebar, ? or Ctrl+/ this list. ⌘ stands for Ctrl on a Mac. ? and / are text while typing.
(function () {
  "use strict";
  var dialog = document.getElementById("shortcuts-help");
  var TEXT_INPUTS = ["", "text", "search", "email", "url", "password", "number", "tel"];

  function typing(target) {
    if (!target || !target.tagName) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") return true;
    return tag === "input" && TEXT_INPUTS.indexOf((target.getAttribute("type") || "").toLowerCase()) >= 0;
  }

  // On a phone the sidebar is a pane of its own: show it before going there.
  function showPane(name) {
    var tab = document.querySelector('.chat-tabs button[data-pane="' + name + '"]');
    if (tab && tab.offsetParent !== null && tab.getAttribute("aria-pressed") !== "true") tab.click();
  }

  function openHelp() {
    if (dialog && !dialog.open) dialog.showModal();
  }

  function newChat() {
    var link = document.querySelector(".btn-new");
    if (link) window.location.assign(link.href);
  }

  function search() {
    var box = document.querySelector("#chat-sessions .session-search");
    if (!box) return;
    showPane("sessions");
    box.focus();
    box.select();
  }

  // The chat above or below the open one, in the order the sidebar shows (the first from a new chat).
  function move(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll("#session-list .session-link"));
    if (!links.length) return;
    var current = document.querySelector("#session-list .session-item.current .session-link");
    var at = links.indexOf(current);
    var next = at < 0 ? (step > 0 ? links[0] : null) : links[at + step];
    if (next) window.location.assign(next.href);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) return;
    if (dialog && dialog.open) return; // the dialog has its own keys: Esc, Tab, Enter
    var ctrl = event.ctrlKey || event.metaKey;
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var action = null;
    if (ctrl && event.shiftKey && !event.altKey && key === "o") action = newChat;
    else if (ctrl && !event.shiftKey && !event.altKey && key === "k") action = search;
    else if (ctrl && !event.altKey && key === "/") action = openHelp;
    else if (event.altKey && !ctrl && !event.shiftKey && key === "ArrowUp") action = function () { move(-1); };
    else if (event.altKey && !ctrl && !event.shiftKey && key === "ArrowDown") action = function () { move(1); };
    else if (!ctrl && !event.altKey && !typing(event.target)) {
      if (key === "?") action = openHelp;
      else if (key === "/" && !event.shiftKey) action = search;
    }
    if (!action) return;
    event.preventDefault();
    action();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcuts-open]")) openHelp();
  });
})();
