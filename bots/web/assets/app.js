// authbot's page of live codes. Plain script, no libraries, no build step.
// Everything from the server is put into the page with textContent, never
// as HTML, and the Content-Security-Policy refuses inline script anyway.
'use strict';
(function () {
  var SVGNS = 'http://www.w3.org/2000/svg';
  var RADIUS = 15;
  var CIRC = 2 * Math.PI * RADIUS;

  var state = {
    auth: null,        // {kind: 'tma', data: initData} or {kind: 'cookie'}
    accounts: [],      // as the server sent them, with a local deadline
    rows: [],          // {el, key} per rendered account, for the search
    refreshTimer: 0,
    lastTouch: performance.now(),
    idle: 120,
    hidden: document.hidden,
    ended: false
  };

  // The page's words. The server sends them in the person's language
  // (their /language choice, else their app's) with the first codes; these
  // English ones are only for what can go wrong before that answer.
  // Markers {name} and {vault} are filled here; plurals come worded.
  var S = {
    copy_label: 'Copy the code of {name}', copied: 'Copied', copy_failed: 'Copy failed: select the code instead',
    ask: 'Ask for approval', new_code: 'New code', next_code: 'Next code', reason_placeholder: 'Why do you need it?',
    reason_label: 'Reason', send: 'Send', asked: 'Asked.', no_answer: 'The bot did not answer. Check your connection.',
    no_code: 'No code this time.', empty: 'No accounts yet. Add one in the chat: /add NAME KEY', vault: 'Vault {vault}',
    yours: 'Your accounts', no_codes: 'The bot could not give codes just now.',
    closed: 'This page is closed. Open it again from the bot.', hidden: 'Codes are hidden while the page is not shown.',
    loading: 'Loading…', idle_app: 'Closed after a while without use. Open it again from the menu button.',
    idle_link: 'Closed after a while without use. Send /web in the chat for a new link.'
  };
  var haveStrings = false;

  function $(id) { return document.getElementById(id); }

  function applyStrings(lang, strings) {
    if (!strings || typeof strings !== 'object') return;
    Object.keys(strings).forEach(function (k) {
      if (typeof strings[k] === 'string') S[k] = strings[k];
    });
    haveStrings = true;
    if (typeof lang === 'string' && lang) document.documentElement.lang = lang;
    if (S.title) document.title = S.title;
    if (S.heading) $('heading').textContent = S.heading;
    if (S.footer) $('footer').textContent = S.footer;
    if (S.search) $('search').placeholder = S.search;
    if (S.search_label) $('search').setAttribute('aria-label', S.search_label);
  }

  function setStatus(text, isError) {
    var s = $('status');
    s.textContent = text || '';
    s.className = isError ? 'error' : '';
  }

  // Telegram Mini App events without telegram-web-app.js: the apps expose
  // a proxy object, the web clients listen for postMessage from the frame.
  function postEvent(type, data) {
    var payload = data === undefined ? '' : JSON.stringify(data);
    try {
      if (window.TelegramWebviewProxy && window.TelegramWebviewProxy.postEvent) {
        window.TelegramWebviewProxy.postEvent(type, payload);
      } else if (window.external && 'notify' in window.external) {
        window.external.notify(JSON.stringify({ eventType: type, eventData: data }));
      } else if (window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data }), 'https://web.telegram.org');
      }
    } catch (e) { /* not inside Telegram */ }
  }

  var COLOR = /^#[0-9a-fA-F]{3,8}$/;
  var THEME = {
    bg_color: '--bg', text_color: '--text', hint_color: '--hint', link_color: '--link',
    button_color: '--button', button_text_color: '--button-text', secondary_bg_color: '--card'
  };

  function applyTheme(json) {
    var t;
    try { t = JSON.parse(json); } catch (e) { return; }
    if (!t || typeof t !== 'object') return;
    Object.keys(THEME).forEach(function (k) {
      if (typeof t[k] === 'string' && COLOR.test(t[k])) {
        document.documentElement.style.setProperty(THEME[k], t[k]);
      }
    });
    if (typeof t.button_color === 'string' && COLOR.test(t.button_color)) {
      document.documentElement.style.setProperty('--ring', t.button_color);
    }
  }

  // Who we are: Telegram's launch data (from the script, should anyone
  // load it, else from the URL fragment Telegram opens us with), or the
  // session cookie a /web link bought.
  function findAuth() {
    var tg = window.Telegram && window.Telegram.WebApp;
    var params = new URLSearchParams(location.hash.slice(1));
    if (tg && tg.initData) {
      return { kind: 'tma', data: tg.initData };
    }
    var data = params.get('tgWebAppData');
    if (data) {
      var theme = params.get('tgWebAppThemeParams');
      if (theme) applyTheme(theme);
      return { kind: 'tma', data: data };
    }
    return { kind: 'cookie' };
  }

  function api(path, body) {
    var headers = { 'Content-Type': 'application/json' };
    if (state.auth.kind === 'tma') headers.Authorization = 'tma ' + state.auth.data;
    return fetch(path, {
      method: 'POST', headers: headers, body: JSON.stringify(body || {}),
      credentials: 'same-origin', cache: 'no-store'
    }).then(function (r) {
      return r.text().then(function (t) {
        var j = null;
        try { j = t ? JSON.parse(t) : null; } catch (e) { j = null; }
        return { status: r.status, ok: r.ok, body: j };
      });
    });
  }

  function spaced(code) {
    if (/^[0-9]+$/.test(code) && code.length >= 6) {
      var half = Math.ceil(code.length / 2);
      return code.slice(0, half) + ' ' + code.slice(half);
    }
    return code;
  }

  function toast(text) {
    var t = $('toast');
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, 1500);
  }

  function copy(text) {
    var fallback = function () {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.className = 'offscreen';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      ta.remove();
      return ok;
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, fallback);
    }
    return Promise.resolve(fallback());
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function ring() {
    var wrap = el('div', 'ring');
    var svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('viewBox', '0 0 36 36');
    svg.setAttribute('aria-hidden', 'true');
    var track = document.createElementNS(SVGNS, 'circle');
    track.setAttribute('class', 'track');
    var arc = document.createElementNS(SVGNS, 'circle');
    arc.setAttribute('class', 'arc');
    [track, arc].forEach(function (c) {
      c.setAttribute('cx', '18'); c.setAttribute('cy', '18'); c.setAttribute('r', String(RADIUS));
    });
    arc.setAttribute('stroke-dasharray', String(CIRC));
    svg.appendChild(track);
    svg.appendChild(arc);
    wrap.appendChild(svg);
    var secs = el('span', 'secs');
    wrap.appendChild(secs);
    return { wrap: wrap, arc: arc, secs: secs };
  }

  function codeButton(a, code) {
    var b = el('button', 'code', spaced(code));
    b.type = 'button';
    b.setAttribute('aria-label', S.copy_label.replace('{name}', function () { return a.name; }));
    b.addEventListener('click', function () {
      copy(code).then(function (ok) { toast(ok ? S.copied : S.copy_failed); });
    });
    return b;
  }

  function row(a) {
    var li = el('li', 'account');
    li.id = 'acct-' + a.id;
    var who = el('div', 'who');
    who.appendChild(el('div', 'name', a.vault ? a.label : a.name));
    var sub = [a.issuer, a.user].filter(function (x) { return x; }).join(' · ');
    if (sub) who.appendChild(el('div', 'sub', sub));

    if (a.needs_approval) {
      var ask = el('button', 'action', S.ask);
      ask.type = 'button';
      ask.addEventListener('click', function () { askForm(a, who, ask); });
      li.appendChild(who);
      li.appendChild(ask);
    } else if (a.kind === 'hotp') {
      var next = el('button', 'action', S.new_code);
      next.type = 'button';
      next.addEventListener('click', function () { newCode(a, li, next); });
      li.appendChild(who);
      li.appendChild(next);
    } else {
      var r = ring();
      a.ring = r;
      li.appendChild(r.wrap);
      li.appendChild(who);
      li.appendChild(codeButton(a, a.code));
    }
    return li;
  }

  function askForm(a, who, button) {
    if (who.querySelector('form')) return;
    var f = el('form', 'ask');
    var input = el('input');
    input.type = 'text';
    input.maxLength = 200;
    input.placeholder = S.reason_placeholder;
    input.setAttribute('aria-label', S.reason_label);
    var send = el('button', 'action', S.send);
    send.type = 'submit';
    f.appendChild(input);
    f.appendChild(send);
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var reason = input.value.trim();
      if (!reason) { input.focus(); return; }
      send.disabled = true;
      api('/api/approval', { id: a.id, reason: reason }).then(function (res) {
        if (res.status === 401) return ended(res.body && res.body.error);
        f.remove();
        var msg = res.body && (res.body.message || res.body.error);
        who.appendChild(el('div', 'note', msg || S.asked));
        button.disabled = true;
      }, function () { send.disabled = false; setStatus(S.no_answer, true); });
    });
    who.appendChild(f);
    input.focus();
  }

  function newCode(a, li, button) {
    button.disabled = true;
    api('/api/code', { id: a.id }).then(function (res) {
      button.disabled = false;
      if (res.status === 401) return ended(res.body && res.body.error);
      if (!res.ok || !res.body || !res.body.code) {
        setStatus((res.body && res.body.error) || S.no_code, true);
        return;
      }
      var old = li.querySelector('button.code');
      if (old) old.remove();
      li.insertBefore(codeButton(a, res.body.code), button);
      button.textContent = S.next_code;
    }, function () { button.disabled = false; setStatus(S.no_answer, true); });
  }

  function render() {
    var list = $('list');
    list.replaceChildren();
    state.rows = [];
    if (state.accounts.length === 0) {
      setStatus(S.empty);
      return;
    }
    setStatus('');
    var groups = [];
    var byVault = {};
    state.accounts.forEach(function (a) {
      var v = a.vault || '';
      if (!(v in byVault)) {
        byVault[v] = [];
        groups.push(v);
      }
      byVault[v].push(a);
    });
    groups.sort(function (x, y) { return x === '' ? -1 : y === '' ? 1 : x.localeCompare(y); });
    groups.forEach(function (v) {
      var sec = el('section');
      sec.appendChild(el('h2', '', v ? S.vault.replace('{vault}', function () { return v; }) : S.yours));
      var ul = el('ul');
      byVault[v].forEach(function (a) {
        var li = row(a);
        ul.appendChild(li);
        state.rows.push({ el: li, sec: sec, key: [a.name, a.issuer, a.user].join(' ').toLowerCase() });
      });
      sec.appendChild(ul);
      list.appendChild(sec);
    });
    filter();
    tick();
  }

  function filter() {
    var q = $('search').value.trim().toLowerCase();
    var shown = new Map();
    state.rows.forEach(function (r) {
      var hit = !q || r.key.indexOf(q) >= 0;
      r.el.classList.toggle('hidden', !hit);
      shown.set(r.sec, (shown.get(r.sec) || false) || hit);
    });
    shown.forEach(function (any, sec) { sec.hidden = !any; });
  }

  // tick moves every countdown ring; the codes themselves only change
  // when the server is asked again, at the period boundary.
  function tick() {
    var now = performance.now();
    state.accounts.forEach(function (a) {
      if (!a.ring || !a.period) return;
      var left = Math.max(0, a.deadline - now);
      var frac = Math.min(1, left / (a.period * 1000));
      a.ring.arc.setAttribute('stroke-dashoffset', String(CIRC * (1 - frac)));
      a.ring.secs.textContent = String(Math.ceil(left / 1000));
      a.ring.wrap.classList.toggle('low', left < 5000);
    });
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    var now = performance.now();
    var next = Infinity;
    state.accounts.forEach(function (a) {
      if (a.deadline) next = Math.min(next, a.deadline);
    });
    if (next === Infinity) return;
    // Just after the boundary, never in a tight loop.
    var wait = Math.max(1000, next - now + 150);
    state.refreshTimer = setTimeout(refresh, wait);
  }

  function refresh() {
    clearTimeout(state.refreshTimer);
    if (state.ended || state.hidden) return;
    var asked = performance.now();
    api('/api/codes', haveStrings ? {} : { strings: true }).then(function (res) {
      if (state.ended || state.hidden) return;
      if (res.status === 401) return ended(res.body && res.body.error);
      if (!res.ok || !res.body) {
        setStatus((res.body && res.body.error) || S.no_codes, true);
        state.refreshTimer = setTimeout(refresh, 10000);
        return;
      }
      if (res.body.strings) applyStrings(res.body.lang, res.body.strings);
      state.idle = res.body.idle || state.idle;
      state.accounts = res.body.accounts || [];
      state.accounts.forEach(function (a) {
        if (a.ms_left) a.deadline = asked + a.ms_left;
      });
      render();
      scheduleRefresh();
    }, function () {
      setStatus(S.no_answer, true);
      state.refreshTimer = setTimeout(refresh, 10000);
    });
  }

  // blank removes every code from the page (hidden page, ended session).
  function blank() {
    clearTimeout(state.refreshTimer);
    state.accounts = [];
    state.rows = [];
    $('list').replaceChildren();
  }

  function ended(message) {
    state.ended = true;
    blank();
    setStatus(message || S.closed, true);
  }

  function endIdle() {
    if (state.ended) return;
    var kind = state.auth.kind;
    if (kind === 'cookie') api('/api/logout').catch(function () {});
    ended(kind === 'tma' ? S.idle_app : S.idle_link);
    if (kind === 'tma') postEvent('web_app_close');
  }

  function touch() { state.lastTouch = performance.now(); }

  function start() {
    state.auth = findAuth();
    ['pointerdown', 'keydown', 'input', 'touchstart', 'wheel'].forEach(function (t) {
      document.addEventListener(t, touch, { passive: true });
    });
    $('search').addEventListener('input', filter);
    document.addEventListener('visibilitychange', function () {
      state.hidden = document.hidden;
      if (state.ended) return;
      if (document.hidden) {
        blank();
        setStatus(S.hidden);
      } else {
        touch();
        setStatus(S.loading);
        refresh();
      }
    });
    setInterval(function () {
      if (state.ended) return;
      if (performance.now() - state.lastTouch > state.idle * 1000) {
        endIdle();
        return;
      }
      tick();
    }, 250);

    if (state.auth.kind === 'tma') {
      postEvent('web_app_ready');
      postEvent('web_app_expand');
    }
    var params = new URLSearchParams(location.hash.slice(1));
    var token = params.get('login');
    if (token && state.auth.kind === 'cookie') {
      // The token leaves the address bar (and history) before anything else.
      history.replaceState(null, '', location.pathname);
      api('/api/login', { token: token }).then(function (res) {
        if (!res.ok) return ended(res.body && res.body.error);
        refresh();
      }, function () { ended('The bot did not answer. Check your connection and open the link again.'); });
      return;
    }
    refresh();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
