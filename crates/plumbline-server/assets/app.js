// Plumbline: shared helpers (session, CSRF, login, logout, help, sortable tables).
// Nothing sensitive is kept in localStorage; the CSRF token lives in memory only.
'use strict';
var PL = (function () {
  var csrf = null;
  function csrfToken() {
    if (csrf) return Promise.resolve(csrf);
    return fetch('/api/v1/session', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (j) { csrf = j.csrf_token || ''; return csrf; });
  }
  // A request with the session cookie and CSRF header; resolves {status, body, text}.
  function call(method, url, body, accept) {
    return csrfToken().then(function (token) {
      var headers = { 'X-CSRF-Token': token, 'Accept': accept || 'application/json' };
      // {raw: text} sends the text as NDJSON; a File (uploads) goes as its bytes;
      // anything else as JSON.
      var raw = body && typeof body.raw === 'string';
      var file = body instanceof Blob;
      if (body !== undefined) headers['Content-Type'] = file ? 'application/octet-stream' : raw ? 'application/x-ndjson' : 'application/json';
      return fetch(url, {
        method: method, credentials: 'same-origin', headers: headers,
        body: body === undefined ? undefined : file ? body : raw ? body.raw : JSON.stringify(body)
      });
    }).then(function (r) {
      if (r.status === 401) { location.href = '/login'; }
      return r.text().then(function (text) {
        var json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        return { status: r.status, ok: r.ok, body: json, text: text };
      });
    });
  }
  function message(res) {
    if (res.body && res.body.error) return res.body.error.message;
    return 'The server answered ' + res.status + '.';
  }
  function show(el, text) {
    if (!el) return;
    el.textContent = text || '';
    el.hidden = !text;
  }
  function openDialog(d) { if (d && !d.open) { d.showModal(); } }
  function closeDialog(d) { if (d && d.open) d.close(); }
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' ||
      (t.tagName === 'INPUT' && !/^(radio|checkbox|button|submit)$/.test(t.type)));
  }
  function initLogin() {
    var form = document.getElementById('login');
    if (!form) return;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var err = document.getElementById('login-error');
      show(err, '');
      fetch('/api/v1/session', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: form.name.value, password: form.password.value })
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.ok) { location.href = '/projects'; return; }
          show(err, (j.error && j.error.message) || 'Sign-in failed.');
          form.password.value = '';
          form.password.focus();
        });
      }).catch(function () { show(err, 'The server cannot be reached.'); });
    });
  }
  function initSortable() {
    document.querySelectorAll('table.sortable').forEach(function (table) {
      table.querySelectorAll('thead th').forEach(function (th, col) {
        var b = th.querySelector('button');
        if (!b) return;
        b.addEventListener('click', function () {
          var asc = th.getAttribute('aria-sort') !== 'ascending';
          table.querySelectorAll('thead th').forEach(function (o) { o.removeAttribute('aria-sort'); });
          th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          var key = function (r) {
            var c = r.cells[col];
            var v = c.getAttribute('data-v');
            if (v !== null) return parseFloat(v);
            var n = parseFloat(c.textContent);
            return isNaN(n) ? c.textContent.toLowerCase() : n;
          };
          rows.sort(function (x, y) {
            var a = key(x), b2 = key(y);
            var r = a < b2 ? -1 : a > b2 ? 1 : 0;
            return asc ? r : -r;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
    });
  }
  // Elements with data-call / data-url change something through the API, then reload.
  function initCalls() {
    var err = document.getElementById('members-error');
    var done = function (res) {
      if (res.ok) { location.reload(); return; }
      show(err, message(res));
    };
    document.querySelectorAll('button[data-call]').forEach(function (b) {
      b.addEventListener('click', function () {
        var ask = b.getAttribute('data-confirm');
        if (ask && !window.confirm(ask)) return;
        call(b.getAttribute('data-call'), b.getAttribute('data-url')).then(done);
      });
    });
    document.querySelectorAll('select[data-call]').forEach(function (s) {
      var was = s.value;
      s.addEventListener('change', function () {
        // A lead giving up their own lead role confirms first; cancelling restores it.
        var ask = s.getAttribute('data-confirm-leaving');
        if (ask && s.value !== was && !window.confirm(ask)) { s.value = was; return; }
        call(s.getAttribute('data-call'), s.getAttribute('data-url'), { role: s.value }).then(done);
      });
    });
    document.querySelectorAll('form[data-call]').forEach(function (f) {
      f.addEventListener('submit', function (e) {
        e.preventDefault();
        call(f.getAttribute('data-call'), f.getAttribute('data-url-base') + encodeURIComponent(f.user.value.trim()),
          { role: f.role.value }).then(done);
      });
    });
  }
  function initPasswordChange() {
    var form = document.getElementById('password-change');
    if (!form) return;
    var err = document.getElementById('password-error');
    var ok = document.getElementById('password-done');
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      show(err, ''); show(ok, '');
      if (form.new.value !== form.again.value) {
        show(err, 'The two new passwords differ.');
        form.again.focus();
        return;
      }
      call('PUT', '/api/v1/account/password',
        { current_password: form.current.value, new_password: form.new.value }).then(function (res) {
        if (res.ok) {
          form.reset();
          show(ok, 'Password changed. Your other sessions have ended.');
        } else {
          show(err, message(res));
        }
      });
    });
  }
  // Times are sent in UTC; each reader sees them in their own time zone.
  function localTimes() {
    document.querySelectorAll('time[data-local]').forEach(function (t) {
      var d = new Date(t.getAttribute('datetime'));
      if (!isNaN(d.getTime())) { t.title = t.textContent; t.textContent = d.toLocaleString(); }
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    localTimes();
    initLogin();
    initPasswordChange();
    initCalls();
    initSortable();
    var out = document.getElementById('logout');
    if (out) out.addEventListener('click', function () {
      call('DELETE', '/api/v1/session').then(function () { location.href = '/login'; });
    });
    var help = document.getElementById('help');
    var open = document.getElementById('help-open');
    if (open) {
      if (!help) open.hidden = true;
      open.addEventListener('click', function () { openDialog(help); });
    }
    var close = document.getElementById('help-close');
    if (close) close.addEventListener('click', function () { closeDialog(help); });
    document.addEventListener('keydown', function (e) {
      if (e.key === '?' && !typing(e) && help) { e.preventDefault(); openDialog(help); }
    });
  });
  return { call: call, message: message, show: show, typing: typing, csrfNow: function () { return csrf; },
    openDialog: openDialog, closeDialog: closeDialog };
})();
