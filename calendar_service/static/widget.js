/*
 * <calendar-events>: the embeddable agenda of the calendar service.
 *
 *   <script src="//HOST/widget.js" defer></script>
 *   <calendar-events feed="agenda" limit="5" lang="fr"></calendar-events>
 *
 * Attributes: feed, category, tag, limit (1-50: the next N events, however far ahead),
 * horizon (how many days ahead to look, 1-800, default 365), once (each series once, at its
 * next date), lang (fr|en), layout (list|compact|cards), heading (text; "" hides it),
 * heading-level (2-6), theme (light, the default; dark; auto follows the visitor's system) and
 * origin (the service's address, needed only when this file is served from another host).
 * Theming: --calendar-accent, --calendar-font, --calendar-radius, --calendar-bg,
 * --calendar-fg, --calendar-muted, --calendar-border, set on the element by the host page.
 *
 * The widget reads /api/occurrences of the service it came from, and nothing else: no
 * cookies, no storage, no other host. Event text is always inserted as text (textContent),
 * never as markup. No framework, no build step.
 */
(() => {
  "use strict";
  const NAME = "calendar-events";
  if (!window.customElements || customElements.get(NAME)) return;

  // The service's address: where this script was loaded from ("{base}/widget.js"), captured
  // now because document.currentScript is only set while the script first runs.
  const me = document.currentScript;
  const SCRIPT_BASE = me && me.src ? new URL(".", me.src).href : "";
  const TIMEOUT_MS = 10000;

  const TEXT = {
    fr: {
      heading: "Agenda",
      loading: "Chargement des événements…",
      empty: "Aucun événement à venir.",
      error: "Les événements n’ont pas pu être chargés.",
      retry: "Réessayer",
      add: "Ajouter à mon agenda",
      sep: " : ",
      subscribe: "S’abonner à l’agenda",
      online: "En ligne",
      alsoOnline: " et en ligne",
      status: {
        cancelled: "Annulé",
        postponed: "Reporté",
        rescheduled: "Nouvelle date",
        moved_online: "En ligne",
        full: "Complet",
      },
    },
    en: {
      heading: "Upcoming events",
      loading: "Loading events…",
      empty: "No upcoming events.",
      error: "The events could not be loaded.",
      retry: "Try again",
      add: "Add to calendar",
      sep: ": ",
      subscribe: "Subscribe to the calendar",
      online: "Online",
      alsoOnline: " and online",
      status: {
        cancelled: "Cancelled",
        postponed: "Postponed",
        rescheduled: "Rescheduled",
        moved_online: "Moved online",
        full: "Full",
      },
    },
  };

  // Colours meet WCAG AA (4.5:1 for text) on their background in both schemes:
  // light fg 17:1, muted 7.2:1, accent 7.5:1; dark fg 15:1, muted 8.9:1, accent 8.5:1.
  const DARK =
    "--_bg:var(--calendar-bg,#1b1a1f);--_fg:var(--calendar-fg,#f3f1f5);" +
    "--_muted:var(--calendar-muted,#bdb8c4);--_line:var(--calendar-border,#55505c);" +
    "--_accent:var(--calendar-accent,#f49cbf);color-scheme:dark;";
  const CSS = `
:host{display:block;container-type:inline-size;
--_bg:var(--calendar-bg,#fff);--_fg:var(--calendar-fg,#1c1b1f);
--_muted:var(--calendar-muted,#595660);--_line:var(--calendar-border,#c9c5cf);
--_accent:var(--calendar-accent,#a01f50);--_r:var(--calendar-radius,8px);color-scheme:light}
:host([hidden]){display:none}
@media (prefers-color-scheme:dark){:host([theme=auto]){${DARK}}}
:host([theme=dark]){${DARK}}
.w{font-family:var(--calendar-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);
color:var(--_fg);background:var(--_bg);border-radius:var(--_r);padding:1em;line-height:1.4}
.w:focus{outline:none}
h2,h3,h4,h5,h6{margin:0;font-size:1.3em;line-height:1.2}
.w>.h{margin-bottom:.6em}
.t{font-size:1.05em}
ul{list-style:none;margin:0;padding:0}
li{display:flex;flex-direction:column;gap:.15em;padding:.7em 0;border-top:1px solid var(--_line)}
li:first-child{border-top:0}
time{order:-1;color:var(--_muted);font-size:.92em}
p{margin:0}
.p{color:var(--_muted)}
a{color:var(--_accent);text-underline-offset:.15em;transition:text-decoration-thickness .1s}
a:hover{text-decoration-thickness:.15em}
.t a{color:var(--_fg);text-decoration-color:var(--_accent)}
.cancelled .t a{text-decoration-line:line-through}
a:focus-visible,button:focus-visible{outline:3px solid var(--_accent);outline-offset:2px;
border-radius:2px}
.n{font-style:italic}
.st{display:inline-block;margin-inline-start:.4em;padding:0 .4em;font-size:.75em;
font-weight:600;vertical-align:.15em;border:1px solid;border-radius:var(--_r);white-space:nowrap}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);
white-space:nowrap}
[hidden]{display:none}
.m:empty{margin:0}
.m{color:var(--_muted);margin:.5em 0}
button{font:inherit;color:var(--_bg);background:var(--_accent);border:0;
border-radius:var(--_r);padding:.4em 1em;cursor:pointer}
.s{margin-top:.8em;padding-top:.6em;border-top:1px solid var(--_line)}
@container (min-width:34em){
.list li{display:grid;grid-template-columns:11em 1fr;column-gap:1em}
.list li>*{grid-column:2}
.list time{grid-column:1;grid-row:1/span 3;font-size:1em}}
.compact li{flex-direction:row;flex-wrap:wrap;align-items:baseline;gap:0 .8em;padding:.35em 0}
.compact .t{font-size:1em;font-weight:600}
.compact .p,.compact .a{display:none}
.cards ul{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,15em),1fr));
gap:1em}
.cards li{border:1px solid var(--_line);border-radius:var(--_r);padding:.9em}
.cards .a{margin-top:auto;padding-top:.4em}
.cards .im{display:block;width:100%;height:auto;aspect-ratio:3/2;object-fit:cover;border-radius:calc(var(--_r) / 2);margin-bottom:.4em}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}
`;

  let sheet = null;
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  } catch {
    sheet = null; // No constructable stylesheets: a <style> element below.
  }

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  };

  // A text in one language; a per-language map if the API sent the whole map.
  const pick = (value, lang) =>
    value && typeof value === "object" ? value[lang] || value.fr || Object.values(value)[0] : value;

  // Only http(s) links are followed; anything else is dropped.
  const safeUrl = (url, base) => {
    try {
      const u = new URL(url, base);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch {
      return null;
    }
  };

  // An uploaded picture for the cards, only from the service's own origin (the API's): a
  // partner page loads nothing from a third party through the widget.
  const picture = (image, apiUrl, lang) => {
    if (!image || !image.media || !image.url) return null;
    const src = safeUrl(image.url, apiUrl);
    if (!src || new URL(src).origin !== new URL(apiUrl).origin) return null;
    const img = el("img", "im");
    img.src = src;
    const same = (set) => set && set.split(", ").every((part) => {
      const u = safeUrl(part.split(" ")[0], apiUrl);
      return u && new URL(u).origin === new URL(apiUrl).origin;
    });
    if (same(image.srcset)) {
      img.srcset = image.srcset;
      img.sizes = "(min-width: 30em) 16em, 100vw";
    }
    img.alt = image.decorative ? "" : pick(image.alt, lang) || "";
    if (image.width && image.height) {
      img.width = image.width;
      img.height = image.height;
    }
    img.loading = "lazy";
    img.decoding = "async";
    return img;
  };

  // French is the service's default language; others are asked for by name.
  const withLang = (url, lang) =>
    lang === "fr" ? url : url + (url.includes("?") ? "&" : "?") + "lang=" + lang;

  // "mar. 15 déc., 18:30 – 22:00", "12 – 14 avr." for several days; year when not this one.
  function when(item, lang, short) {
    const allDay = !!item.all_day;
    const parse = (s) => new Date(allDay ? s + "T12:00:00Z" : s);
    const start = parse(item.start);
    const end = item.end ? parse(item.end) : null;
    if (isNaN(start)) return String(item.start);
    const opts = { day: "numeric", month: "short" };
    if (!short) opts.weekday = "short";
    const year = new Date().getFullYear();
    if (start.getFullYear() !== year || (end && end.getFullYear() !== year)) opts.year = "numeric";
    if (!allDay) {
      opts.hour = lang === "fr" ? "2-digit" : "numeric"; // "09:05" but "9:05 AM"
      opts.minute = "2-digit";
    }
    let fmt;
    try {
      fmt = new Intl.DateTimeFormat(lang, { ...opts, timeZone: allDay ? "UTC" : item.timezone });
    } catch {
      fmt = new Intl.DateTimeFormat(lang, opts); // Unknown zone: the reader's own.
    }
    if (!end || isNaN(end) || end <= start) return fmt.format(start);
    try {
      return fmt.formatRange(start, end);
    } catch {
      return fmt.format(start) + " – " + fmt.format(end);
    }
  }

  function place(item, t) {
    const loc = item.location;
    const names = loc ? [loc.name, loc.city].filter((v, i, all) => v && all.indexOf(v) === i) : [];
    const where = names.join(", ");
    if (item.status === "moved_online") return ""; // The status mark says it.
    if (item.attendance_mode === "online") return t.online;
    if (item.attendance_mode === "mixed") return where ? where + t.alsoOnline : t.online;
    return where;
  }

  class CalendarEvents extends HTMLElement {
    static get observedAttributes() {
      return [
        "feed", "category", "tag", "limit", "lang", "layout", "origin", "heading", "heading-level",
        "once", "horizon",
      ];
    }

    constructor() {
      super();
      this._root = this.attachShadow({ mode: "open" });
      this._timer = 0;
      this._ctrl = null;
      this._url = "";
      this._items = null;
    }

    connectedCallback() {
      if (!this._wrap) this._build();
      this._schedule();
    }

    disconnectedCallback() {
      clearTimeout(this._timer);
      if (this._ctrl) this._ctrl.abort();
      this._ctrl = null;
      this._url = ""; // Reconnecting fetches afresh.
    }

    attributeChangedCallback() {
      if (this.isConnected) this._schedule();
    }

    // Several attribute changes in a row make one update.
    _schedule() {
      clearTimeout(this._timer);
      this._timer = setTimeout(() => this._update(), 0);
    }

    _build() {
      const root = this._root;
      if (sheet) root.adoptedStyleSheets = [sheet];
      else root.append(el("style", "", CSS));
      this._wrap = el("div", "w");
      this._wrap.tabIndex = -1; // Focus lands here after "try again".
      this._head = el("h2", "h");
      this._msg = el("p", "m");
      this._msg.setAttribute("role", "status");
      this._msg.setAttribute("aria-live", "polite");
      this._body = el("div", "b");
      this._list = el("ul");
      this._list.setAttribute("role", "list"); // Safari drops list semantics without it.
      this._body.append(this._list);
      this._retry = el("button");
      this._retry.type = "button";
      this._retry.hidden = true;
      this._retry.addEventListener("click", () => {
        this._wrap.focus();
        this._url = "";
        this._update();
      });
      this._sub = el("p", "s");
      this._subLink = el("a");
      this._sub.append(this._subLink);
      this._wrap.append(this._head, this._msg, this._body, this._retry, this._sub);
      root.append(this._wrap);
    }

    _lang() {
      const raw = this.getAttribute("lang") || document.documentElement.lang || "fr";
      const lang = raw.slice(0, 2).toLowerCase();
      return TEXT[lang] ? lang : "fr";
    }

    // The service's base address, without a final "/"; null when there is none usable.
    _base() {
      const given = this.getAttribute("origin");
      const base = safeUrl(given || SCRIPT_BASE || location.origin + "/", location.href);
      return base ? base.split(/[?#]/)[0].replace(/\/+$/, "") : null;
    }

    _update() {
      const lang = this._lang();
      const t = TEXT[lang];
      const layout = this.getAttribute("layout");
      const level = Math.min(6, Math.max(2, parseInt(this.getAttribute("heading-level"), 10) || 2));
      const headingText = this.getAttribute("heading");
      const showHeading = headingText !== "";
      this._wrap.lang = lang;
      this._wrap.className = "w " + (["compact", "cards"].includes(layout) ? layout : "list");
      this._level = showHeading ? Math.min(6, level + 1) : level;
      const head = el("h" + level, "h", headingText || t.heading);
      head.hidden = !showHeading;
      this._head.replaceWith(head);
      this._head = head;
      this._retry.textContent = t.retry;

      const base = this._base();
      const feed = this.getAttribute("feed") || "agenda";
      this._subLink.textContent = t.subscribe;
      this._sub.hidden = !base;
      if (!base) return this._fail(new Error("no usable origin"));
      // The feed's https address rather than webcal: calendar apps subscribe to it, and
      // browsers with no webcal: handler still download it.
      this._subLink.href = withLang(`${base}/feeds/${encodeURIComponent(feed)}.ics`, lang);

      const query = new URLSearchParams({ feed, limit: String(this._limit()), lang });
      query.set("to", this._until());
      if (this.hasAttribute("once") && this.getAttribute("once") !== "false") query.set("once", "1");
      for (const name of ["category", "tag"]) {
        const value = this.getAttribute(name);
        if (value) query.set(name, value);
      }
      const url = base + "/api/occurrences?" + query;
      if (url === this._url && this._items) return this._render(this._items);
      this._fetch(url);
    }

    // The last day to look at: "horizon" days from today (local date), 365 unless told.
    _until() {
      const n = parseInt(this.getAttribute("horizon"), 10);
      const days = n >= 1 ? Math.min(800, n) : 365;
      const day = new Date();
      day.setDate(day.getDate() + days);
      const pad = (v) => String(v).padStart(2, "0");
      return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
    }

    _limit() {
      const n = parseInt(this.getAttribute("limit"), 10);
      return n >= 1 ? Math.min(50, n) : 5;
    }

    async _fetch(url) {
      if (this._ctrl) this._ctrl.abort(); // A newer request supersedes the older one.
      const ctrl = new AbortController();
      this._ctrl = ctrl;
      this._url = url;
      this._items = null;
      this._state(TEXT[this._lang()].loading, true);
      const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
      try {
        const response = await fetch(url, {
          credentials: "omit",
          mode: "cors",
          referrerPolicy: "no-referrer",
          signal: ctrl.signal,
          headers: { Accept: "application/json" },
        });
        const data = await response.json().catch(() => null);
        if (!response.ok || !data || !Array.isArray(data.items)) {
          throw new Error((data && data.detail) || "HTTP " + response.status);
        }
        if (this._ctrl !== ctrl) return;
        this._items = data.items;
        this._render(data.items);
      } catch (error) {
        if (this._ctrl === ctrl) this._fail(error);
      } finally {
        clearTimeout(timer);
        if (this._ctrl === ctrl) this._ctrl = null;
      }
    }

    // The loading, empty and error states: a message announced politely.
    _state(message, busy) {
      this._body.setAttribute("aria-busy", String(busy));
      this._list.replaceChildren();
      this._list.hidden = true;
      this._msg.textContent = message;
      this._retry.hidden = true;
    }

    _fail(error) {
      console.warn(NAME + ":", error && error.message);
      this._url = "";
      this._state(TEXT[this._lang()].error, false);
      this._retry.hidden = false;
    }

    _render(items) {
      const lang = this._lang();
      const t = TEXT[lang];
      const short = this._wrap.classList.contains("compact");
      if (!items.length) return this._state(t.empty, false);
      const rows = items.map((item) => {
        const title = pick(item.title, lang) || "";
        const links = item.links || {};
        const li = el("li", item.status || "");
        const h = el("h" + this._level, "t");
        const page = safeUrl(links.page, this._url);
        const link = el(page ? "a" : "span", "", title);
        if (page) link.href = page;
        h.append(link);
        const mark = t.status[item.status];
        if (mark) h.append(" ", el("span", "st", mark));
        const time = el("time", "", when(item, lang, short));
        time.dateTime = String(item.start);
        const pic = this._wrap.classList.contains("cards") ? picture(item.image, this._url, lang) : null;
        if (pic) li.append(pic);
        li.append(h, time);
        const where = place(item, t);
        if (where) li.append(el("p", "p", where));
        const note = pick(item.status_note, lang);
        if (note) li.append(el("p", "n", note));
        const ics = item.status === "cancelled" ? null : safeUrl(links.ics, this._url);
        if (ics) {
          const add = el("a", "", t.add);
          add.href = withLang(ics, lang);
          add.append(el("span", "vh", t.sep + title));
          const p = el("p", "a");
          p.append(add);
          li.append(p);
        }
        return li;
      });
      this._list.replaceChildren(...rows);
      this._list.hidden = false;
      this._body.setAttribute("aria-busy", "false");
      this._msg.textContent = "";
      this._retry.hidden = true;
    }
  }

  customElements.define("calendar-events", CalendarEvents);
})();
