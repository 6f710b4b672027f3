// Every page: the top menu's fold on small screens, and the theme chooser applying as it changes.
(function () {
  "use strict";
  var bar = document.getElementById("topbar");
  var toggle = bar && bar.querySelector(".menu-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = bar.classList.toggle("menu-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("menu-open")) {
        bar.classList.remove("menu-open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }
  var theme = document.getElementById("theme-form");
  if (theme) {
    var select = theme.querySelector("select");
    theme.querySelector(".theme-apply").hidden = true; // the choice applies as it is made
    select.addEventListener("change", function () {
      document.documentElement.setAttribute("data-theme", select.value);
      theme.requestSubmit();
    });
  }
})();
