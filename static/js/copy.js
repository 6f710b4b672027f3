// Copy buttons: one on every code block of a finished reply (copies the code) and one on every
// reply (copies its Markdown source, from data-copy); "Copied" shows for a moment after each.
(function () {
  "use strict";
  var SHOWN_MS = 1500;

  // An icon button says it in its label (shown beside the icon for the moment); others in their text.
  function flash(button, text) {
    var target = button.querySelector(".btn-label") || button;
    var label = button.getAttribute("data-label") || target.textContent;
    button.setAttribute("data-label", label);
    target.textContent = text;
    button.classList.add("copied");
    setTimeout(function () {
      target.textContent = label;
      button.classList.remove("copied");
    }, SHOWN_MS);
  }

  function copy(text, button) {
    navigator.clipboard.writeText(text).then(
      function () { flash(button, "Copied"); },
      function () { flash(button, "Copy failed"); }
    );
  }

  // Not while a reply streams: each frame replaces its HTML, buttons and all.
  function addCodeButtons() {
    document.querySelectorAll(".msg-assistant:not(.streaming) .md pre").forEach(function (pre) {
      if (pre.parentNode.classList.contains("code-block")) return;
      var block = document.createElement("div");
      block.className = "code-block";
      pre.parentNode.insertBefore(block, pre);
      block.appendChild(pre);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "code-copy";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy the code");
      block.appendChild(button);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".code-copy, .btn-copy-reply");
    if (!button) return;
    if (button.classList.contains("code-copy")) {
      copy(button.parentNode.querySelector("pre").textContent, button);
    } else {
      copy(button.getAttribute("data-copy") || "", button);
    }
  });
  addCodeButtons();
  document.body.addEventListener("htmx:load", addCodeButtons);
})();
