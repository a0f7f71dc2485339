// Building DOM safely: every piece of data becomes a text node (never innerHTML), so message
// text such as "<script>" or "<img onerror>" stays inert.
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value as EventListener);
    } else if (key === "class") {
      el.className = String(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function fmtTime(iso: string): string {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function fmtNum(n: number): string {
  return n.toLocaleString("en-US");
}

// US dollars: cents from $1 up, up to four decimals below ("$0.0123"), "$0" for nothing.
export function usd(x: number): string {
  if (x === 0) return "$0";
  return "$" + x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: x < 1 ? 4 : 2 });
}

export function pct(x: number): string {
  return (x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0) + "%";
}

export function link(href: string, text: string, cls = ""): HTMLAnchorElement {
  return h("a", { href, class: cls }, text);
}

// Small line icons (no emoji: they depend on the system's fonts).
const ICONS: Record<string, string> = {
  up: "M7 10v11H3V10h4zm2 11h8.3a2 2 0 0 0 2-1.7l1.4-7A2 2 0 0 0 18.7 10H14V5.5A2.5 2.5 0 0 0 11.5 3L9 10v11z",
  down: "M17 14V3h4v11h-4zm-2-11H6.7a2 2 0 0 0-2 1.7l-1.4 7A2 2 0 0 0 5.3 14H10v4.5a2.5 2.5 0 0 0 2.5 2.5L15 14V3z",
  key: "M14 3a7 7 0 0 0-6.7 9.1L2 17.4V22h4.6l1-1v-2h2v-2h2l1.3-1.3A7 7 0 1 0 14 3zm2.5 4a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3z",
};

export function icon(name: keyof typeof ICONS | string, cls = ""): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon " + cls);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name] ?? "");
  svg.append(path);
  return svg;
}

// Placeholders the server writes for redacted values (--redact): "[EMAIL]", "[PHONE:1a2b3c4d]".
const REDACTED = /\[(EMAIL|PHONE|CARD|IBAN|IP|SECRET)(?::[0-9a-f]{8})?\]/g;
const REDACTED_NAMES: Record<string, string> = {
  EMAIL: "e-mail address", PHONE: "phone number", CARD: "card number", IBAN: "IBAN",
  IP: "IP address", SECRET: "key or token",
};

// `text` as text nodes, with each redaction placeholder in it as a badge (still text: the
// badge's content is the placeholder itself, so copying the message copies it unchanged).
export function withRedactions(text: string): (Node | string)[] {
  const out: (Node | string)[] = [];
  let at = 0;
  for (const m of text.matchAll(REDACTED)) {
    const index = m.index ?? 0;
    if (index > at) out.push(text.slice(at, index));
    out.push(h("span", { class: "pii", title: `redacted ${REDACTED_NAMES[m[1]]}` }, m[0]));
    at = index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}
