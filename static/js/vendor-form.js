// The admin vendor form shows the inputs of the chosen kind only (each names its kinds in
// data-vendor-kinds); hidden inputs are disabled, so they are not sent either.
(function () {
  "use strict";

  function update(form) {
    var select = form.querySelector("[data-vendor-kind-select] select");
    if (!select) return;
    form.querySelectorAll("[data-vendor-kinds]").forEach(function (group) {
      var shown = group.dataset.vendorKinds.split(" ").indexOf(select.value) !== -1;
      group.hidden = !shown;
      group.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !shown;
      });
    });
  }

  function init() {
    document.querySelectorAll("form").forEach(function (form) {
      var select = form.querySelector("[data-vendor-kind-select] select");
      if (!select || form.dataset.vendorFormReady) return;
      form.dataset.vendorFormReady = "1";
      select.addEventListener("change", function () { update(form); });
      update(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
