// Expand every VEVENT of an iCalendar file with Mozilla's ical.js (the parser of Thunderbird).
//
//   node expand.mjs FILE FROM TO      (FROM and TO: 2027-01-01T00:00:00Z)
//
// Prints {"occurrences": [[uid, start, end, status], ...], "texts": {uid: {...}}}: occurrences
// starting before TO and ending after FROM (the caller cuts the window), dates as YYYY-MM-DD,
// date-times in UTC as YYYY-MM-DDTHH:MM:SSZ, a floating time without the Z. Only the
// VTIMEZONEs of the file are known: a TZID without one reads as floating and shows.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const [file, from, to] = process.argv.slice(2);
if (!file || !from || !to) {
  console.error("usage: node expand.mjs FILE FROM TO");
  process.exit(2);
}
const MAX_OCCURRENCES = 100000;

const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
// Register the zones before any date-time is read: ical.js resolves a TZID when it reads one.
for (const zone of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(zone);
}

const pad = (n, width = 2) => String(n).padStart(width, "0");

function norm(time) {
  if (time.isDate) {
    return `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
  }
  const floating = !time.zone || time.zone.tzid === "floating";
  const t = floating ? time : time.convertToZone(ICAL.Timezone.utcTimezone);
  const text =
    `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}` +
    `T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
  return floating ? text : `${text}Z`;
}

function seconds(text) {
  return Date.parse(text) / 1000;
}

const fromSeconds = seconds(from);
const toSeconds = seconds(to);

function hasEnd(component) {
  return component.hasProperty("dtend") || component.hasProperty("duration");
}

function occurrence(uid, item, start, end) {
  const finish = hasEnd(item.component) ? end : start;
  const status = item.component.getFirstPropertyValue("status") || "";
  return [uid, norm(start), norm(finish), String(status)];
}

const vevents = root.getAllSubcomponents("vevent");
const exceptions = new Map();
const masters = [];
for (const component of vevents) {
  const uid = component.getFirstPropertyValue("uid");
  if (component.hasProperty("recurrence-id")) {
    if (!exceptions.has(uid)) exceptions.set(uid, []);
    exceptions.get(uid).push(component);
  } else {
    masters.push(component);
  }
}

const occurrences = [];
const texts = {};
const masterUids = new Set();
for (const component of masters) {
  const uid = component.getFirstPropertyValue("uid");
  masterUids.add(uid);
  // Relate only this UID's exceptions (left alone, ical.js relates every RECURRENCE-ID).
  const event = new ICAL.Event(component, {
    strictExceptions: true,
    exceptions: exceptions.get(uid) || [],
  });
  texts[uid] = {
    summary: event.summary,
    description: event.description,
    location: event.location,
  };
  if (!event.isRecurring()) {
    occurrences.push(occurrence(uid, event, event.startDate, event.endDate));
    continue;
  }
  const iterator = event.iterator();
  for (let n = 0, next = iterator.next(); next; next = iterator.next(), n++) {
    if (n > MAX_OCCURRENCES) throw new Error(`${uid}: over ${MAX_OCCURRENCES} occurrences`);
    if (next.toUnixTime() >= toSeconds) break;
    const details = event.getOccurrenceDetails(next);
    if (details.endDate.toUnixTime() < fromSeconds && details.startDate.toUnixTime() < fromSeconds) {
      continue;
    }
    occurrences.push(occurrence(uid, details.item, details.startDate, details.endDate));
  }
}
// An exception whose master is not in the file stands alone.
for (const [uid, components] of exceptions) {
  if (masterUids.has(uid)) continue;
  for (const component of components) {
    const event = new ICAL.Event(component);
    occurrences.push(occurrence(uid, event, event.startDate, event.endDate));
  }
}

process.stdout.write(JSON.stringify({ occurrences, texts }));
