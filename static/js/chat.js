// What htmx cannot do for the chat: autoscroll, Enter to send, keep the place when older messages load,
// and keep the Send button disabled while a reply streams.
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

  if (composer) {
    var textarea = composer.querySelector("textarea");
    var error = document.getElementById("composer-error");
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (!streaming() && textarea.value.trim()) composer.requestSubmit();
      }
    });
    textarea.addEventListener("input", function () {
      textarea.style.height = "auto";
      textarea.style.height = Math.min(textarea.scrollHeight, 192) + "px";
    });
    composer.addEventListener("submit", function (event) {
      if (streaming()) event.preventDefault();
    });
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (event.detail.elt === composer && error) error.hidden = true;
    });
    document.body.addEventListener("htmx:responseError", function (event) {
      if (!error) return;
      error.textContent = event.detail.xhr.responseText || "Something went wrong; please try again.";
      error.hidden = false;
    });
  }

  // Older messages are prepended above what is on screen: keep the reader where they were.
  var heightBefore = null;
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    heightBefore = elt && elt.classList && elt.classList.contains("older") ? thread.scrollHeight : null;
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (heightBefore !== null) {
      thread.scrollTop += thread.scrollHeight - heightBefore;
      heightBefore = null;
    } else if (event.detail.target && event.detail.target.id === "thread-runs") {
      toBottom(); // the message just sent and its placeholder
    }
    syncComposer();
  });

  // Follow the reply while it streams, unless the reader scrolled up to read something else.
  var follow = true;
  document.body.addEventListener("htmx:sseBeforeMessage", function () {
    follow = nearBottom();
  });
  document.body.addEventListener("htmx:sseMessage", function () {
    if (follow) toBottom();
    syncComposer();
  });
  document.body.addEventListener("htmx:sseClose", syncComposer);
  document.body.addEventListener("htmx:load", syncComposer);
})();
