// Copy buttons of the newsletter preview. Without JavaScript the buttons stay hidden and the
// text areas can be selected and copied by hand.
"use strict";
document.querySelectorAll("button.copy-button").forEach((button) => {
  const area = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector(".status");
  if (!area) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(area.value);
    } catch {
      area.select();
      document.execCommand("copy");
    }
    if (status) status.textContent = button.dataset.done;
  });
});
