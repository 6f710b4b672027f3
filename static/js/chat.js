// What htmx cannot do for the chat: autoscroll, Enter to send (a message or an edit), keep the place
// when older messages load, keep the Send button disabled while a reply streams, the phone's pane tabs,
// the length counter, the tab's title, Esc to cancel a rename or an edit, say which turn a message
// follows, keep the place when another version of a turn is shown, and telling a screen reader that a
// reply came.
(function () {
  "use strict";
  var thread = document.getElementById("thread");
  var composer = document.getElementById("composer");
  var NEAR_BOTTOM = 80;

  function nearBottom() {
    return thread && thread.scrollHeight - thread.scrollTop - thread.clientHeight < NEAR_BOTTOM;
  }
  function toBottom() {
    if (thread) thread.scrollTop = thread.scrollHeight;
  }
  function streaming() {
    return document.querySelector(".msg-assistant[sse-connect]") !== null;
  }
  function syncComposer() {
    if (!composer) return;
    var button = composer.querySelector(".btn-send");
    if (button) button.disabled = streaming();
  }

  toBottom();
  syncComposer();

  // A phone shows one pane at a time: the tabs say which (CSS hides the others).
  var chat = document.getElementById("chat");
  var tabs = chat ? chat.querySelectorAll(".chat-tabs button") : [];
  Array.prototype.forEach.call(tabs, function (tab) {
    tab.addEventListener("click", function () {
      chat.setAttribute("data-pane", tab.getAttribute("data-pane"));
      Array.prototype.forEach.call(tabs, function (other) {
        other.setAttribute("aria-pressed", other === tab ? "true" : "false");
      });
      if (tab.getAttribute("data-pane") === "thread") toBottom();
    });
  });

  // The tab's title follows the chat's heading (renamed, or titled after the first reply).
  var SUFFIX = " · Agent sessions & memory";
  function syncTitle() {
    var heading = document.getElementById("thread-title");
    if (heading) document.title = heading.textContent.trim() + SUFFIX;
  }

  // One polite announcement per reply: streamed text would be read out in fragments.
  var announcer = document.getElementById("reply-announcer");
  function announce(reply) {
    if (!announcer || !reply) return;
    var text = reply.querySelector(".bubble");
    announcer.textContent = "The agent replied: " + (text ? text.textContent.replace(/\s+/g, " ").trim() : "");
  }

  if (composer) {
    var textarea = composer.querySelector("textarea");
    var error = document.getElementById("composer-error");
    var count = document.getElementById("composer-count");
    var max = count ? parseInt(count.getAttribute("data-max"), 10) : 0;
    var cut = false;
    function showError(text) {
      if (!error) return;
      error.textContent = text;
      error.hidden = false;
    }
    function fit() {
      textarea.style.height = "auto";
      if (textarea.value) textarea.style.height = Math.min(textarea.scrollHeight, 192) + "px";
      else textarea.style.height = "";
    }
    // The box holds `max` characters: past 80% it counts, and a paste it had to cut says so.
    function syncCount() {
      if (!count || !max) return;
      var length = textarea.value.length;
      count.hidden = !cut && length < max * 0.8;
      count.classList.toggle("is-near", cut || length >= max);
      var figures = length.toLocaleString("en") + " / " + max.toLocaleString("en") + " characters";
      count.textContent = cut ? "Cut to fit: a message holds at most " + max.toLocaleString("en") +
        " characters (" + figures + ")." : figures;
    }
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (!streaming()) composer.requestSubmit();
      }
    });
    textarea.addEventListener("beforeinput", function (event) {
      if (!max) return;
      var incoming = event.data != null ? event.data.length :
        (event.dataTransfer ? event.dataTransfer.getData("text/plain").length : 0);
      var room = max - (textarea.value.length - (textarea.selectionEnd - textarea.selectionStart));
      cut = incoming > room;
    });
    textarea.addEventListener("input", function () {
      fit();
      syncCount();
    });
    // After sending, the box is emptied (forms.js): it shrinks back and the counter goes.
    composer.addEventListener("reset", function () {
      setTimeout(function () {
        cut = false;
        fit();
        syncCount();
      }, 0);
    });
    composer.addEventListener("submit", function (event) {
      if (streaming()) {
        event.preventDefault();
      } else if (!textarea.value.trim()) {
        event.preventDefault();
        showError("Type a message first.");
        textarea.focus();
      }
    });
    syncCount();
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (event.detail.elt !== composer) return;
      // htmx sends on submit whatever another listener did: a blank message is stopped here.
      if (!textarea.value.trim()) {
        event.preventDefault();
        showError("Type a message first.");
        return;
      }
      if (error) error.hidden = true;
    });
    // A message follows the last turn this page shows: the version the person sees, whatever
    // another tab chose since.
    composer.addEventListener("htmx:configRequest", function (event) {
      var turns = document.querySelectorAll("#thread-runs .exchange[data-run-id]");
      if (turns.length) event.detail.parameters.parent = turns[turns.length - 1].getAttribute("data-run-id");
    });
    document.body.addEventListener("htmx:responseError", function (event) {
      var elt = event.detail.elt;
      var text = event.detail.xhr.responseText || "Something went wrong; please try again.";
      var form = elt && elt.closest ? elt.closest(".edit-form") : null;
      if (form) {
        var formError = form.querySelector(".form-error");
        formError.textContent = text;
        formError.hidden = false;
      } else if (elt === composer || (elt && elt.closest && elt.closest("#thread-runs"))) {
        showError(text); // a regenerate or a version refused (the run limit, say): said by the composer
      }
    });
  }

  // Editing a message: Enter (or Ctrl+Enter) sends it, Shift+Enter is a new line, as in the composer.
  document.body.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.isComposing) return;
    var box = event.target;
    var form = box && box.tagName === "TEXTAREA" && box.closest ? box.closest(".edit-form") : null;
    if (!form) return;
    event.preventDefault();
    var formError = form.querySelector(".form-error");
    if (!box.value.trim()) {
      if (formError) {
        formError.textContent = "Type a message first.";
        formError.hidden = false;
      }
      return;
    }
    if (formError) formError.hidden = true;
    form.requestSubmit();
  });

  // Renaming a chat or editing a message: Esc puts it back as it was.
  document.body.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    var form = event.target.closest(".rename-form, .edit-form");
    var cancel = form && form.querySelector(".rename-cancel, .edit-cancel");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });

  // Older messages are prepended above what is on screen: keep the reader where they were. Another
  // version of a turn replaces the thread below it: that turn stays where it was on screen, and the
  // ‹ › pressed keeps the focus.
  var heightBefore = null;
  var switched = null;
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.classList || !elt.classList.contains("version-btn")) return;
    var turn = elt.closest(".exchange");
    switched = {
      id: (elt.getAttribute("hx-post").match(/\/runs\/([^/]+)\/show\//) || [])[1],
      label: elt.getAttribute("aria-label"),
      offset: turn.getBoundingClientRect().top - thread.getBoundingClientRect().top
    };
  });
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    heightBefore = elt && elt.classList && elt.classList.contains("older") ? thread.scrollHeight : null;
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (heightBefore !== null) {
      thread.scrollTop += thread.scrollHeight - heightBefore;
      heightBefore = null;
    } else if (switched && event.detail.target && event.detail.target.id === "thread-runs") {
      var turn = document.getElementById("exchange-" + switched.id);
      if (turn) {
        thread.scrollTop += turn.getBoundingClientRect().top - thread.getBoundingClientRect().top - switched.offset;
        var again = turn.querySelector('.version-btn[aria-label="' + switched.label + '"]:not([disabled])') ||
          turn.querySelector(".version-btn:not([disabled])");
        if (again) again.focus();
        var at = turn.querySelector(".versions-at");
        if (announcer && at) announcer.textContent = "Version " + at.textContent.replace("/", " of ") + " shown.";
      }
      switched = null;
    } else if (event.detail.target && event.detail.target.id === "thread-runs") {
      toBottom(); // the message just sent and its placeholder, or a new version of a turn
    }
    syncComposer();
  });

  // Follow the reply while it streams, unless the reader scrolled up to read something else.
  var follow = true;
  document.body.addEventListener("htmx:sseBeforeMessage", function () {
    follow = nearBottom();
  });
  document.body.addEventListener("htmx:sseMessage", function (event) {
    if (follow) toBottom();
    syncComposer();
  });
  document.body.addEventListener("htmx:sseClose", syncComposer);
  // A reply starting is said once; its words are read when it is complete (above), not piecemeal.
  document.body.addEventListener("htmx:sseOpen", function (event) {
    var elt = event.detail && event.detail.elt;
    if (announcer && elt && elt.classList && elt.classList.contains("streaming")) {
      announcer.textContent = "The agent is answering…";
    }
  });
  document.body.addEventListener("htmx:load", syncComposer);

  // A finished reply replaces its placeholder (the stream's final frame, a retry): announce it. htmx
  // first gives the new reply its placeholder's classes (same id) and then its own, so the moment to
  // catch is a reply losing "streaming", or one arriving without it. The heading may have changed
  // with it (the automatic title, a rename): the tab's title follows.
  function isReply(node) {
    return node.nodeType === 1 && node.classList.contains("msg-assistant");
  }
  var pane = document.getElementById("chat-thread");
  if (pane && window.MutationObserver) {
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        if (record.type === "attributes") {
          var was = (record.oldValue || "").split(/\s+/).indexOf("streaming") >= 0;
          if (isReply(record.target) && was && !record.target.classList.contains("streaming")) announce(record.target);
          return;
        }
        Array.prototype.forEach.call(record.addedNodes, function (node) {
          if (isReply(node) && !node.classList.contains("streaming")) announce(node);
        });
      });
      syncTitle();
    }).observe(pane, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"], attributeOldValue: true });
  }
  document.body.addEventListener("htmx:afterSettle", syncTitle);
})();
