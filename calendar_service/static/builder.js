// The embed builder's live preview: as the form changes, update the component's attributes,
// the frame's address and both snippets. Without JavaScript the form reloads the page instead.
"use strict";
(() => {
  const form = document.getElementById("embed-form");
  const widget = document.getElementById("preview-widget");
  const frame = document.getElementById("preview-frame");
  const widgetCode = document.getElementById("snippet-widget");
  const frameCode = document.getElementById("snippet-frame");
  if (!form || !widget || !frame || !widgetCode || !frameCode) return;
  const base = form.dataset.base;
  const defaultAccent = "#" + form.dataset.defaultAccent;
  const quote = (s) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

  const update = () => {
    const data = new FormData(form);
    const value = (name) => String(data.get(name) || "").trim();
    const feed = value("feed");
    const accent = value("accent") || defaultAccent;
    const attrs = { feed, limit: value("limit"), lang: value("lang"), layout: value("layout") };
    if (value("category")) attrs.category = value("category");
    if (value("tag")) attrs.tag = value("tag").toLowerCase();
    if (value("theme") && value("theme") !== "light") attrs.theme = value("theme");
    const once = data.getAll("once").includes("1");

    for (const name of ["feed", "limit", "lang", "layout", "category", "tag", "theme"]) {
      if (attrs[name]) widget.setAttribute(name, attrs[name]);
      else widget.removeAttribute(name);
    }
    widget.toggleAttribute("once", once);
    widget.style.setProperty("--calendar-accent", accent);

    const params = new URLSearchParams({ limit: attrs.limit, lang: attrs.lang, layout: attrs.layout });
    if (attrs.category) params.set("category", attrs.category);
    if (attrs.tag) params.set("tag", attrs.tag);
    if (accent.toLowerCase() !== defaultAccent) params.set("accent", accent.slice(1).toLowerCase());
    if (attrs.theme) params.set("theme", attrs.theme);
    if (once) params.set("once", "1");
    const path = `/embed/${encodeURIComponent(feed)}?${params}`;
    if (frame.getAttribute("src") !== path) frame.setAttribute("src", path);

    const shown = Object.entries(attrs).map(([k, v]) => `${k}="${quote(v)}"`).join(" ") +
      (once ? " once" : "");
    const style = accent.toLowerCase() !== defaultAccent ? ` style="--calendar-accent: ${accent}"` : "";
    widgetCode.value = `<script src="${base}/widget.js" defer></script>\n` +
      `<calendar-events ${shown}${style}></calendar-events>`;
    const title = form.querySelector("#feed option:checked")?.textContent || feed;
    frameCode.value = frameCode.value.replace(/<iframe src="[^"]*" title="[^"]*"/,
      `<iframe src="${base}${quote(path)}" title="${quote(title)}"`);
  };

  widget.style.setProperty("--calendar-accent", widget.dataset.accent || defaultAccent);
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  window.addEventListener("message", (event) => {
    if (event.source === frame.contentWindow && event.data?.type === "calendar-embed:height") {
      frame.style.height = `${event.data.height}px`;
    }
  });
})();
