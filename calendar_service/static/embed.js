// Tells the page that frames this embed how tall it is, so it can size the iframe. Nothing
// else: the embed is complete without JavaScript.
"use strict";
(() => {
  if (window.parent === window) return;
  let last = 0;
  const send = () => {
    const height = Math.ceil(document.documentElement.scrollHeight);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "calendar-embed:height", height }, "*");
  };
  window.addEventListener("load", send);
  if ("ResizeObserver" in window) new ResizeObserver(send).observe(document.body);
})();
