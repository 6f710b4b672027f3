// Message times stay current without a reload: every minute the labels of the last hour are worked
// out again from their datetime ("just now", "5 min ago", then "today 14:03" in the zone the server
// used, data-tz); older labels stay as the server wrote them (sessions_app/chat/times.py).
(function () {
  "use strict";

  function dayAndClock(date, tz) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return { day: parts.year + "-" + parts.month + "-" + parts.day, clock: parts.hour + ":" + parts.minute };
  }

  function label(el, now) {
    var when = new Date(el.getAttribute("datetime"));
    var seconds = (now - when) / 1000;
    if (isNaN(seconds) || seconds >= 2 * 3600) return null;
    if (seconds < 60) return "just now";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
    try {
      var tz = el.getAttribute("data-tz") || "UTC";
      var then = dayAndClock(when, tz);
      return then.day === dayAndClock(now, tz).day ? "today " + then.clock : null;
    } catch (e) {
      return null; // a zone this browser does not know: keep the server's words
    }
  }

  function refresh() {
    var now = new Date();
    document.querySelectorAll("time.msg-time[datetime]").forEach(function (el) {
      var text = label(el, now);
      if (text && el.textContent !== text) el.textContent = text;
    });
  }

  setInterval(refresh, 60 * 1000);
})();
