// Parlor chat page behaviour: Enter sends, copy buttons, keeping the newest text in view.
// Loaded with `defer` on every page; no inline script anywhere (strict CSP).
(function () {
  "use strict";

  function nearBottom() {
    var doc = document.documentElement;
    return doc.scrollHeight - (window.scrollY + window.innerHeight) < 160;
  }

  function scrollToEnd() {
    window.scrollTo(0, document.documentElement.scrollHeight);
  }

  // Enter sends, Shift+Enter (or an IME composition) adds a line.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (!(box instanceof HTMLTextAreaElement) || !box.hasAttribute("data-enter-sends")) return;
    event.preventDefault();
    var files = box.form && box.form.querySelector("input[name=attachments]");
    if ((box.value.trim() || files) && box.form) box.form.requestSubmit();
  });

  function copyText(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    }
  }

  function addCopyButtons(root) {
    root.querySelectorAll(".message .content pre").forEach(function (pre) {
      if (pre.parentElement.classList.contains("code-block")) return;
      var wrap = document.createElement("div");
      wrap.className = "code-block";
      pre.parentNode.insertBefore(wrap, pre);
      wrap.appendChild(pre);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = "Copy code";
      button.addEventListener("click", function () { copyText(pre.innerText, button); });
      wrap.appendChild(button);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (source) copyText(source.textContent, button);
  });

  document.addEventListener("DOMContentLoaded", function () {
    addCopyButtons(document);
    if (document.getElementById("messages")) scrollToEnd();
  });

  // New content from htmx (a swapped message list, the final render of a reply).
  document.addEventListener("htmx:load", function (event) { addCopyButtons(event.target); });

  var following = true;
  document.addEventListener("htmx:sseBeforeMessage", function () { following = nearBottom(); });
  document.addEventListener("htmx:sseMessage", function () { if (following) scrollToEnd(); });

  // A request the worker shed (503 with Retry-After, app/admission.py) says so above the message
  // box, as a refused send does; htmx swaps no other 5xx answer. The typed message stays.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var error = document.getElementById("composer-error");
    if (xhr.status !== 503 || !xhr.getResponseHeader("Retry-After") || !error) return;
    event.detail.target = error;
    event.detail.swapOverride = "innerHTML";
    event.detail.shouldSwap = true;
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (form.id !== "composer" || !event.detail.successful) return;
    var box = form.querySelector("textarea[name=message]");
    if (box) box.value = "";
    var error = document.getElementById("composer-error");
    if (error) error.textContent = "";
    scrollToEnd();
  });
})();
