/* Hearth tracking snippet: hand-written ES2017, no dependencies.
 *   <script src="https://HEARTH/hearth.js" data-site="site_..." defer></script>
 * Sends the collect wire format of docs/tracking.md to POST <this script's origin>/collect.
 * data-respect-privacy="true": send nothing under Do Not Track or Global Privacy Control.
 * data-allow-automation="true": run even when navigator.webdriver is set (tests, monitoring).
 *
 * Sessions. localStorage (shared by the site's tabs) holds hearth_session = {id, last}: the
 * session id and the time of the latest page view or activity of any tab. A page view or
 * activity more than 15 minutes after `last` starts a new id. To end the session when the last
 * tab closes, hearth_tabs = {tabId: {b: heartbeat, c: closed at or 0}} registers every tab:
 * each beats every 5 s (hidden tabs' timers may slow to once a minute, so a tab counts as
 * open until 2.5 minutes without a beat) and marks itself closed on pagehide. The tab id lives
 * in sessionStorage, which survives navigations and reloads in the tab and dies with it. When
 * a page loads, the session goes on if another tab is open, or if this tab's own entry closed
 * less than 30 s ago (a navigation or reload in the tab); otherwise the last tab was closed
 * and the page view starts a new session.
 *
 * Active time. A moment counts as active while the tab is visible, the window has focus, and
 * the visitor moved the mouse, scrolled, clicked, typed or touched within the last 5 s
 * (WINDOW). It is summed in milliseconds between checkpoints (each input, focus and visibility
 * change, and a 5 s timer) and sent as `activity` events of 1 to 60 s: at most one per 15 s,
 * except that leaving a page (pagehide, a single-page-app navigation) sends its rest at once.
 *
 * Events are batched: sent every 5 s, at 100 events, and when the tab is hidden or the page
 * goes away, with navigator.sendBeacon (text/plain: no CORS preflight) or fetch keepalive.
 */
(() => {
  'use strict';
  const d = document, w = window, n = navigator, now = Date.now;
  const IDLE = 9e5, STALE = 15e4, GRACE = 3e4, WINDOW = 5e3, EVERY = 15e3, TICK = 5e3;
  const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
  const script = d.currentScript || d.querySelector('script[data-site]');
  const attr = (k) => script && script.getAttribute('data-' + k);
  const site = attr('site');
  const dnt = [n.doNotTrack, w.doNotTrack, n.msDoNotTrack].some((v) => v === '1' || v === 'yes');
  const queued = (w.hearth && w.hearth.q) || [];
  if (!site || (attr('respect-privacy') === 'true' && (n.globalPrivacyControl === true || dnt))
      || (n.webdriver && attr('allow-automation') !== 'true')) {
    w.hearth = { identify: () => false };
    return;
  }
  const endpoint = new URL(script.src, location.href).origin + '/collect';

  const store = (area, k, v) => {
    try {
      if (v === undefined) return JSON.parse(w[area].getItem(k));
      w[area].setItem(k, JSON.stringify(v));
    } catch (e) { /* storage disabled or full */ }
    return null;
  };
  const local = (k, v) => store('localStorage', k, v);
  const uuid = () => {
    try { return crypto.randomUUID(); } catch (e) { /* insecure context: fall back */ }
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    return Array.from(b, (x, i) => ([4, 6, 8, 10].includes(i) ? '-' : '') + (x + 256).toString(16).slice(1)).join('');
  };
  const anon = local('hearth_anon') || uuid();
  local('hearth_anon', anon);
  const tabId = store('sessionStorage', 'hearth_tab') || uuid();
  store('sessionStorage', 'hearth_tab', tabId);

  const beat = (closed) => {
    const tabs = local('hearth_tabs') || {}, t = now();
    for (const k in tabs) if (t - tabs[k].b > STALE) delete tabs[k];
    tabs[tabId] = { b: t, c: closed ? t : 0 };
    local('hearth_tabs', tabs);
  };
  const continuing = () => {
    const tabs = local('hearth_tabs') || {}, t = now();
    return Object.keys(tabs).some((k) => (k === tabId
      ? t - (tabs[k].c || tabs[k].b) < GRACE
      : !tabs[k].c && t - tabs[k].b < STALE));
  };
  let fresh = !continuing();
  beat();

  let queue = [], queueSession;
  const session = (t, visit) => {
    let s = local('hearth_session');
    if (!s || !s.id || (visit && (fresh || t - s.last > IDLE))) s = { id: uuid(), last: 0 };
    if (visit) {
      fresh = false;
      s.last = Math.max(s.last, t);
    }
    local('hearth_session', s);
    return s.id;
  };
  const flush = () => {
    if (queue.length) send(queue.splice(0), queueSession);
  };
  const send = (events, sid) => {
    const body = JSON.stringify({ site, anon, session: sid, sent_at: now(), events });
    if (events.length > 1 && new Blob([body]).size > 6e4) {
      const half = events.length >> 1;
      send(events.slice(0, half), sid);
      send(events.slice(half), sid);
    } else if (!(n.sendBeacon && n.sendBeacon(endpoint, body))) {
      fetch(endpoint, { method: 'POST', body, keepalive: true, headers: { 'Content-Type': 'text/plain' } })
        .catch(() => {});
    }
  };
  const push = (event, t) => {
    event.id = uuid();
    event.ts = t;
    const sid = session(t, event.type !== 'identify');
    if (queue.length && sid !== queueSession) flush();
    queueSession = sid;
    if (queue.push(event) >= 100) flush();
  };

  let url, pageAt;
  const pageview = (referrer) => {
    url = location.href.slice(0, 2048);
    pageAt = now();
    push({ type: 'pageview', url, title: d.title.slice(0, 1024) || undefined,
      referrer: referrer && referrer.length <= 2048 ? referrer : undefined }, pageAt);
  };

  // Active time: between two checkpoints, lastInput is constant.
  let lastInput = -Infinity, lastTick = now(), activeMs = 0, activeAt = 0, lastEmit = now();
  let focused = d.hasFocus(), counting = d.visibilityState === 'visible' && focused;
  const tick = () => {
    const t = now(), end = Math.min(t, lastInput + WINDOW);
    if (counting && end > lastTick) {
      activeMs += end - lastTick;
      activeAt = end;
    }
    lastTick = t;
    counting = d.visibilityState === 'visible' && focused;
  };
  const emit = (leaving) => {
    tick();
    let s;
    while ((leaving || now() - lastEmit >= EVERY)
        && (s = Math.min(60, Math.floor(activeMs / 1e3 + (leaving ? 0.5 : 0)))) > 0) {
      activeMs -= s * 1e3;
      lastEmit = now();
      push({ type: 'activity', url, seconds: s }, Math.max(activeAt, pageAt));
    }
  };
  const input = (e) => {
    // Content scrolled under a still pointer: no visitor moved it.
    if (e.type === 'mousemove' && !e.movementX && !e.movementY) return;
    tick();
    // Back after 15 idle minutes (a frozen tab, a sleeping laptop): send what came before.
    if (lastTick - activeAt > IDLE) emit(true);
    if (e.type !== 'mousemove' && e.type !== 'scroll' && e.type !== 'wheel') focused = true;
    lastInput = lastTick;
    counting = d.visibilityState === 'visible' && focused;
  };
  ['mousemove', 'mousedown', 'wheel', 'scroll', 'keydown', 'touchstart', 'touchmove', 'click'].forEach(
    (type) => w.addEventListener(type, input, { capture: true, passive: true }));
  w.addEventListener('focus', () => { tick(); focused = true; tick(); });
  w.addEventListener('blur', () => { tick(); focused = false; tick(); });
  d.addEventListener('visibilitychange', () => {
    tick();
    if (d.visibilityState === 'hidden') {
      emit(false);
      flush();
    }
  });
  w.addEventListener('pagehide', () => {
    emit(true);
    beat(true);
    flush();
  });
  w.addEventListener('pageshow', (e) => {
    if (!e.persisted) return;
    fresh = !continuing();
    beat();
    tick();
    pageview(d.referrer);
  });
  setInterval(() => {
    emit(false);
    beat();
    flush();
  }, TICK);

  // Single-page apps: a new address (not only a new #fragment) is a new page.
  const navigated = () => {
    if (location.href.split('#')[0] === url.split('#')[0]) return;
    emit(true);
    pageview(url);
  };
  ['pushState', 'replaceState'].forEach((m) => {
    const original = history[m];
    history[m] = function () {
      const result = original.apply(this, arguments);
      navigated();
      return result;
    };
  });
  w.addEventListener('popstate', navigated);

  // Identify: hearth.identify(email, {name, title, linkedin}) and emails sent with forms.
  const identify = (email, traits, source) => {
    email = typeof email === 'string' ? email.trim() : '';
    if (email.length > 254 || !EMAIL.test(email)) return false;
    const kept = {};
    ['name', 'title', 'linkedin'].forEach((k) => {
      const v = traits && traits[k];
      if (typeof v === 'string' && v.trim() && v.length <= 512
          && (k !== 'linkedin' || /^https?:\/\/\S+$/i.test(v))) kept[k] = v.trim();
    });
    push({ type: 'identify', email, traits: kept, source }, now());
    flush();
    return true;
  };
  d.addEventListener('submit', (e) => {
    let email, name;
    for (const el of (e.target && e.target.elements) || []) {
      const key = ((el.name || '') + ' ' + (el.id || '')).toLowerCase(), value = (el.value || '').trim();
      if (el.type === 'password' || el.type === 'hidden') continue;
      if (!email && (el.type === 'email' || key.includes('email')) && EMAIL.test(value)) email = value;
      else if (!name && /^((full|your)[_-]?)?name$/i.test(el.name || el.id || '')) name = value;
    }
    if (email) identify(email, { name }, 'form');
  }, true);

  w.hearth = { identify: (email, traits) => identify(email, traits, 'api') };
  pageview(d.referrer);
  queued.forEach((call) => w.hearth[call[0]] && w.hearth[call[0]].apply(null, call.slice(1)));
})();
