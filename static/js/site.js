// Every page: the top menu's fold on small screens, the theme chooser applying as it changes, and
// the browser's time zone kept in the `tz` cookie, so the server writes times in it
// (agentapp/platform/local_time.py).
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var kept = (document.cookie.match(/(?:^|;\s*)tz=([^;]*)/) || [])[1];
    // IANA names ("America/New_York", "Etc/GMT+5") hold only characters a cookie value may.
    if (zone && /^[A-Za-z0-9_+\-\/]+$/.test(zone) && kept !== zone) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
        (location.protocol === "https:" ? "; Secure" : "");
    }
  } catch (e) {
    // No Intl time zones here: times stay in the server's zone.
  }
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
