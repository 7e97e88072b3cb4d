// The event form's picture, made easier where JavaScript runs (the form works without it):
// a picture can be dropped on the file field, a preview shows what was chosen, and a click on
// the current picture sets its focal point (the two percentage fields below it).
(() => {
  "use strict";
  const zone = document.querySelector(".picture-drop");
  const input = zone && zone.querySelector('input[type="file"]');
  if (zone && input) {
    const hint = document.createElement("p");
    hint.className = "drop-hint";
    hint.textContent = zone.dataset.dropText || "";
    zone.append(hint);
    const preview = document.createElement("img");
    preview.className = "drop-preview";
    preview.alt = "";
    preview.hidden = true;
    zone.append(preview);
    const show = () => {
      const file = input.files && input.files[0];
      if (!file) return;
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
    };
    input.addEventListener("change", show);
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
  }
  const current = document.querySelector(".editor-picture img");
  const x = document.getElementById("f-image-focus_x");
  const y = document.getElementById("f-image-focus_y");
  if (current && x && y) {
    const mark = document.createElement("span");
    mark.className = "focus-mark";
    mark.setAttribute("aria-hidden", "true");
    current.parentElement.append(mark);
    const place = () => {
      mark.style.left = (Number(x.value) || 50) + "%";
      mark.style.top = (Number(y.value) || 50) + "%";
    };
    current.addEventListener("click", (event) => {
      const box = current.getBoundingClientRect();
      x.value = String(Math.round(((event.clientX - box.left) / box.width) * 100));
      y.value = String(Math.round(((event.clientY - box.top) / box.height) * 100));
      place();
    });
    x.addEventListener("input", place);
    y.addEventListener("input", place);
    place();
  }
})();
