// DOM and formatting helpers. Elements are built with createElement and text nodes only (no HTML strings), so nothing
// the API returns is ever parsed as markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An HTML element: h('a', { href: '#/runs', class: 'x', onclick: fn }, 'text', child, [more]). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same shape as h(). */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replaces an element's children. */
export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const DASH = '—';

export const fmt = {
  num(value, digits = 4) {
    return value === null || value === undefined ? DASH : Number(value).toLocaleString('en-US', { maximumFractionDigits: digits });
  },
  int(value) {
    return value === null || value === undefined ? DASH : Math.round(Number(value)).toLocaleString('en-US');
  },
  pct(value) {
    return value === null || value === undefined ? DASH : `${(Number(value) * 100).toFixed(1)} %`;
  },
  usd(value) {
    if (value === null || value === undefined) return DASH;
    const n = Number(value);
    // Evaluation calls cost fractions of a cent: show enough digits to tell them apart.
    return `$${n !== 0 && Math.abs(n) < 0.01 ? n.toFixed(6) : n.toFixed(n < 10 ? 4 : 2)}`;
  },
  ms(value) {
    return value === null || value === undefined ? DASH : `${Number(value).toLocaleString('en-US', { maximumFractionDigits: 1 })} ms`;
  },
  time(iso) {
    if (!iso) return DASH;
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  },
  duration(ms) {
    if (ms === null || ms === undefined || Number.isNaN(ms)) return DASH;
    const total = Math.max(0, Math.round(ms / 1000));
    const hours = Math.floor(total / 3600), minutes = Math.floor((total % 3600) / 60), seconds = total % 60;
    if (hours > 0) return `${hours} h ${String(minutes).padStart(2, '0')} min`;
    if (minutes > 0) return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
    return `${seconds} s`;
  },
};

/** Runtime statuses of runs that are still going (lists and pages refresh while any is shown). */
export const ACTIVE = new Set(['Running', 'Pending', 'Suspended']);

/** How long a run took (ended) or has been going (active). */
export function runDuration(run) {
  const start = Date.parse(run.createdTime);
  const end = ACTIVE.has(run.runtimeStatus) ? Date.now() : Date.parse(run.lastUpdatedTime);
  return fmt.duration(end - start);
}

/** A coloured status pill. */
export function badge(text, kind) {
  return h('span', { class: `badge ${kind ?? statusKind(text)}` }, text ?? DASH);
}

export function statusKind(text) {
  switch (text) {
    case 'Running': case 'Pending': case 'Training': case 'AwaitingApproval': return 'active';
    case 'Completed': case 'Promoted': return 'ok';
    case 'Failed': case 'Terminated': case 'JobFailed': case 'ValidationFailed': case 'BudgetExceeded':
    case 'DeadlineExceeded': case 'Rejected': case 'Cancelled': case 'ApprovalTimedOut': return 'bad';
    case 'NotPromoted': case 'Suspended': return 'warn';
    default: return 'neutral';
  }
}
