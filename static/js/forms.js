// Behaviour the templates ask for with data- attributes, so that no page needs inline script
// (the Content-Security-Policy allows none, and htmx runs with eval off).
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute("data-reset-on-success")) {
    form.reset();
  }
});
