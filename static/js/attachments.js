// Parlor composer files: pick (Attach files), drop on the conversation or paste; each file is
// uploaded at once with its progress shown, then waits as a chip (Remove <name>) whose hidden
// field sends it with the message. No inline script anywhere (strict CSP).
(function () {
  "use strict";

  function input() { return document.getElementById("attach-files"); }
  function chips() { return document.getElementById("pending-attachments"); }
  function status() { return document.getElementById("attach-status"); }

  function csrfToken() {
    var field = document.querySelector("#composer input[name=csrf_token]");
    return field ? field.value : "";
  }

  function say(text, isError) {
    var box = status();
    if (!box) return;
    box.textContent = "";
    if (!text) return;
    var line = document.createElement("p");
    line.className = isError ? "error" : "muted";
    if (isError) line.setAttribute("role", "alert");
    line.textContent = text;
    box.appendChild(line);
  }

  function errorText(xhr) {
    // Parlor's answer: an inline alert, or a whole error page (a rate limit) whose message
    // is its card's first paragraph.
    var page = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var message = page.querySelector("[role=alert]") || page.querySelector(".card p");
    var text = message ? message.textContent.trim() : "";
    return text || "The upload failed (" + xhr.status + ").";
  }

  function upload(file) {
    var list = chips(), picker = input();
    if (!list || !picker) return;
    var pending = document.createElement("li");
    pending.className = "chip uploading";
    var name = document.createElement("span");
    name.className = "chip-name";
    name.textContent = file.name || "pasted file";
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + name.textContent);
    pending.appendChild(name);
    pending.appendChild(bar);
    list.appendChild(pending);

    var form = new FormData();
    form.append("file", file, file.name || "pasted-image.png");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", picker.getAttribute("data-upload-url"));
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round(100 * event.loaded / event.total);
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 201) {
        var holder = document.createElement("template");
        holder.innerHTML = xhr.responseText.trim();
        var chip = holder.content.firstElementChild;
        var id = chip && chip.getAttribute("data-attachment-id");
        if (id && list.querySelector('[data-attachment-id="' + id + '"]')) {
          pending.remove();  // the same file twice: it goes once
        } else if (chip) {
          list.replaceChild(chip, pending);
        }
        say("");
      } else {
        pending.remove();
        say(errorText(xhr), true);
      }
    });
    xhr.addEventListener("error", function () {
      pending.remove();
      say("The upload failed: Parlor could not be reached.", true);
    });
    xhr.send(form);
  }

  function uploadAll(files) {
    for (var i = 0; i < files.length; i++) upload(files[i]);
  }

  document.addEventListener("change", function (event) {
    if (event.target !== input()) return;
    uploadAll(event.target.files);
    event.target.value = "";  // the same file may be picked again after a removal
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-attachment]");
    if (!button) return;
    var chip = button.closest(".chip");
    var composer = document.getElementById("message");
    if (chip) chip.remove();
    if (composer) composer.focus();
  });

  document.addEventListener("paste", function (event) {
    if (!input() || !event.clipboardData || !event.clipboardData.files.length) return;
    event.preventDefault();
    uploadAll(event.clipboardData.files);
  });

  function carriesFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0;
  }

  function dropZone(event) {
    return input() && carriesFiles(event) ? event.target.closest(".chat") : null;
  }

  document.addEventListener("dragover", function (event) {
    var zone = dropZone(event);
    if (!zone) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("dropping");
  });

  document.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest(".chat");
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("dropping");
  });

  document.addEventListener("drop", function (event) {
    var zone = dropZone(event);
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dropping");
    uploadAll(event.dataTransfer.files);
  });

  // A file still uploading would be left behind: wait for it.
  document.addEventListener("submit", function (event) {
    var list = chips();
    if (!list || event.target.id !== "composer" || !list.querySelector(".uploading")) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    say("Wait for the files to finish uploading, then send.", true);
  }, true);

  // A message sent: its files went with it.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.target.id !== "composer" || !event.detail.successful) return;
    var list = chips();
    if (list) list.textContent = "";
    say("");
  });
})();
