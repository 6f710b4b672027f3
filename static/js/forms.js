// Behaviour the templates ask for with data- attributes, so that no page needs inline script
// (the Content-Security-Policy allows none, and htmx runs with eval off).
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute("data-reset-on-success")) {
    form.reset();
  }
});

// <form data-confirm="question">: asks before it is sent (revoking a key, deleting for good).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// <button data-copy="#selector">: copies that element's text, and says so next to the button.
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  const status = button.parentElement.querySelector(".copy-status");
  try {
    await navigator.clipboard.writeText(source ? source.textContent.trim() : "");
    if (status) status.textContent = "Copied to the clipboard.";
  } catch (error) {
    if (source) window.getSelection().selectAllChildren(source);
    if (status) status.textContent = "Could not copy: the key is selected, press Ctrl+C (or ⌘C).";
  }
});

// <textarea data-char-limit="N" id="x"> with <p data-char-count-for="x">: the count as the person
// types (as the server counts: without surrounding blanks), marked when past the limit.
document.addEventListener("input", (event) => {
  const field = event.target;
  if (!(field instanceof HTMLTextAreaElement) || !field.dataset.charLimit) return;
  const count = document.querySelector(`[data-char-count-for="${field.id}"]`);
  if (!count) return;
  const used = field.value.trim().length;
  const limit = Number(field.dataset.charLimit);
  count.textContent = used > limit
    ? `${used} of ${limit} characters: ${used - limit} too many`
    : `${used} of ${limit} characters`;
  count.classList.toggle("over", used > limit);
});
