// Plumbline: the judging page. Leases tasks as server-rendered fragments, checks the
// priority rule live (through judgment.js, which mirrors plumbline_domain::judgment::priority
// exactly), submits and skips through the JSON API, autosaves drafts in sessionStorage,
// keeps time on task and warns before the lease expires. Every shortcut is listed under `?`.
'use strict';
(function () {
  var host, project, task, form, startedAt = 0, cursor = 0, timerId = 0, busy = false;
  var submitMark = false;
  window.PL_MEASURES = [];

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function api(path) { return '/api/v1/projects/' + encodeURIComponent(project) + path; }

  // ---- The form: reading it, filling it and the live check are judgment.js's ---------
  var J = null;
  function rubric() { return J.rubric(); }
  function candidates() { return J.candidates(); }
  function letterOf(id) { return J.letterOf(id); }
  function titleOf(key) { return J.titleOf(key); }
  function tagName(tag) { return J.tagName(tag); }
  function rangeErrors() { return J.rangeErrors(); }
  function missing() { return J.missing(); }
  function payload() { return J.payload(); }
  function check() { return form && J ? J.check() : null; }

  // ---- Drafts, timer, lease --------------------------------------------------------
  function draftKey() { return 'plumbline:draft:' + task.getAttribute('data-assignment'); }
  function saveDraft() {
    var state = {};
    $$('input, textarea, select', form).forEach(function (i, n) {
      state[n] = (i.type === 'radio' || i.type === 'checkbox') ? i.checked : i.value;
    });
    try { sessionStorage.setItem(draftKey(), JSON.stringify(state)); } catch (e) { return; }
    var s = $('#saved'); if (s) s.textContent = 'draft saved';
  }
  function restoreDraft() {
    var raw = null;
    try { raw = sessionStorage.getItem(draftKey()); } catch (e) { raw = null; }
    if (!raw) return;
    var state = JSON.parse(raw);
    $$('input, textarea, select', form).forEach(function (i, n) {
      if (!(n in state)) return;
      if (i.type === 'radio' || i.type === 'checkbox') i.checked = state[n]; else i.value = state[n];
    });
  }
  function clearDraft() {
    $('#saved').textContent = '';
    try { sessionStorage.removeItem(draftKey()); sessionStorage.removeItem(draftKey() + ':ms'); } catch (e) { return; }
  }
  // Time on task survives a reload of a held lease: the elapsed ms are kept beside the draft.
  // Judgments submitted on this project in this browser session (a reload keeps it).
  function sessionKey() { return 'plumbline:submitted:' + project; }
  function submittedCount() {
    try { return +sessionStorage.getItem(sessionKey()) || 0; } catch (e) { return 0; }
  }
  function countSubmitted() {
    try { sessionStorage.setItem(sessionKey(), String(submittedCount() + 1)); } catch (e) { return; }
  }
  function showSessionCount() {
    var s = $('#session-count', host), n = submittedCount();
    if (s && n) s.textContent = n + ' submitted in this session';
  }
  function carriedMs() {
    var ms = 0;
    try { ms = +sessionStorage.getItem(draftKey() + ':ms') || 0; } catch (e) { ms = 0; }
    return ms > 0 ? ms : 0;
  }
  function tick() {
    // startedAt is 0 between mounting a task and its first paint: nothing to record yet.
    if (!task || task.getAttribute('data-none') || !startedAt) return;
    var ms = performance.now() - startedAt;
    try { sessionStorage.setItem(draftKey() + ':ms', String(Math.round(ms))); } catch (e) { /* no storage: the timer still runs */ }
    var secs = Math.floor(ms / 1000);
    $('#timer').textContent = 'time on task ' + Math.floor(secs / 60) + ':' + ('0' + secs % 60).slice(-2);
    var left = Math.floor((+task.getAttribute('data-expires') - Date.now()) / 1000);
    var lease = $('#lease');
    if (left <= 0) { lease.className = 'lease warn'; lease.textContent = 'The lease has expired: this item may go to someone else.'; }
    else if (left <= 120) { lease.className = 'lease warn'; lease.textContent = 'Lease ends in ' + Math.floor(left / 60) + ':' + ('0' + left % 60).slice(-2) + ': submit or skip soon.'; }
    else { lease.className = 'lease'; lease.textContent = ''; }
  }

  // ---- Word diff (LCS over words) -------------------------------------------------------
  function diff(a, b, into) {
    var x = a.split(/(\s+)/), y = b.split(/(\s+)/);
    into.textContent = '';
    if (x.length * y.length > 4e6) { into.textContent = 'Too long to diff.'; return; }
    var n = x.length, m = y.length, L = new Array(n + 1);
    for (var i = 0; i <= n; i++) { L[i] = new Uint16Array(m + 1); }
    for (i = n - 1; i >= 0; i--) for (var j = m - 1; j >= 0; j--) {
      L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    }
    var add = function (tag, text) {
      var last = into.lastChild;
      if (last && last.nodeName.toLowerCase() === tag) { last.textContent += text; return; }
      if (tag === 'span') { into.appendChild(document.createTextNode(text)); return; }
      var el = document.createElement(tag); el.textContent = text; into.appendChild(el);
    };
    i = 0; j = 0;
    while (i < n && j < m) {
      if (x[i] === y[j]) { add('span', x[i]); i++; j++; }
      else if (L[i + 1][j] >= L[i][j + 1]) { add('del', x[i++]); }
      else { add('ins', y[j++]); }
    }
    while (i < n) add('del', x[i++]);
    while (j < m) add('ins', y[j++]);
  }
  function candText(id) { return J.candText(id); }
  function toggleDiff() {
    var d = $('#diff', task);
    if (!d) return;
    if (d.hidden) { var ids = candidates(); diff(candText(ids[0]), candText(ids[1]), d); }
    d.hidden = !d.hidden;
    var t = $('#diff-toggle', task); if (t) t.setAttribute('aria-expanded', String(!d.hidden));
    if (!d.hidden) d.scrollIntoView({ block: 'nearest' });
  }
  function demoDiff() {
    var base = $('#based-on', form), d = $('#demo-diff', form);
    if (!base || !d) return;
    if (!base.value) { d.textContent = ''; return; }
    diff(candText(base.value), $('#response', form).value, d);
  }

  // ---- Loading, submitting, skipping ------------------------------------------------------
  function rows() { return $$('tr.crit, .cand', form).filter(function (r) { return r.tagName === 'TR' || form.getAttribute('data-kind') === 'ranking'; }); }
  function moveCursor(d, quiet) {
    var rs = rows();
    if (!rs.length) return;
    cursor = Math.max(0, Math.min(rs.length - 1, cursor + d));
    rs.forEach(function (r, i) { r.classList.toggle('current', i === cursor); });
    if (!quiet) rs[cursor].scrollIntoView({ block: 'nearest' });
  }
  function mount(html) {
    host.innerHTML = html;
    startedAt = 0;
    task = $('#task', host);
    form = $('#judgment', host);
    J = form ? PL.judgment(form) : null;
    cursor = 0;
    $('#saved').textContent = '';
    showSessionCount();
    if (task && !task.getAttribute('data-none')) {
      var convo = $('#convo', task);
      if (convo) convo.scrollTop = convo.scrollHeight;
      restoreDraft();
      form.addEventListener('change', function (e) {
        J.changed(e.target);
        check(); saveDraft(); demoDiff();
      });
      form.addEventListener('input', function (e) {
        if (e.target.tagName === 'TEXTAREA' || e.target.type === 'number') { saveDraft(); check(); demoDiff(); }
      });
      form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });
      // A stale message goes once its cause is gone (the override unticked, a
      // rationale written, a missing mark made).
      form.addEventListener('change', clearStale);
      form.addEventListener('input', clearStale);
      form.addEventListener('keydown', function (e) {
        // Enter in a radio, checkbox or field never submits the whole form implicitly.
        if (e.key === 'Enter' && !(e.ctrlKey || e.metaKey) && e.target.tagName === 'INPUT') e.preventDefault();
      });
      $('#skip', form).addEventListener('click', openSkip);
      var dt = $('#diff-toggle', task);
      if (dt) dt.addEventListener('click', toggleDiff);
      if (form.getAttribute('data-kind') === 'ranking') initDrag();
      window.scrollTo(0, 0);
      moveCursor(0, true);
      check();
    }
    requestAnimationFrame(function () {
      setTimeout(function () {
        startedAt = performance.now() - (task && !task.getAttribute('data-none') ? carriedMs() : 0);
        if (submitMark) {
          submitMark = false;
          performance.mark('pl-painted');
          var m = performance.measure('pl-submit-to-paint', 'pl-submit', 'pl-painted');
          window.PL_MEASURES.push(m ? m.duration : performance.getEntriesByName('pl-submit-to-paint').pop().duration);
        }
        tick();
      }, 0);
    });
  }
  function loadNext() {
    return PL.call('POST', '/ui/api/projects/' + encodeURIComponent(project) + '/next', undefined, 'text/html')
      .then(function (res) {
        if (!res.ok) { host.innerHTML = ''; var p = document.createElement('p'); p.className = 'error'; p.textContent = PL.message(res); host.appendChild(p); return; }
        mount(res.text);
      });
  }
  // A server message in the annotator's terms: ids become letters, keys titles, and a
  // parser's position goes.
  function translate(msg) {
    var ids = {};
    candidates().forEach(function (c) { ids[c] = letterOf(c); });
    rubric().criteria.forEach(function (c) { if (!(c.key in ids)) ids[c.key] = c.title; });
    return String(msg).replace(/`([^`]*)`/g, function (m, t) { return t in ids ? ids[t] : tagName(t); })
      .replace(/ at line \d+ column \d+| \(line \d+, column \d+\)/g, '');
  }
  // The row (or control) to fix comes into view above the sticky footer, focused.
  function showRow(key) {
    var row = key && $('tr.crit[data-key="' + key + '"]', form);
    if (!row) return;
    row.classList.add('decides');
    cursor = Math.max(0, rows().indexOf(row));
    moveCursor(0, true);
    row.scrollIntoView({ block: 'center' });
    var i = $('input', row); if (i) i.focus({ preventScroll: true });
  }
  function fail(err, text, kind) { PL.show(err, text); err.setAttribute('data-why', kind || ''); }
  function submit() {
    if (busy || !form) return;
    var err = $('#server-error', form);
    fail(err, '');
    var range = rangeErrors();
    if (range) { check(); var bad = $('[aria-invalid=true]', form); if (bad) { bad.scrollIntoView({ block: 'center' }); bad.focus({ preventScroll: true }); } return; }
    var need = missing();
    if (need.length) {
      fail(err, 'Before submitting: ' + need.join('; ') + '.', 'missing');
      var gap = $$('tr.crit', form).filter(function (tr) {
        var scores = $$('input.score', tr);
        return scores.length ? scores.some(function (i) { return i.value === ''; }) : !$('input:checked', tr);
      })[0];
      if (gap) showRow(gap.getAttribute('data-key'));
      else {
        // A ranking moves its cursor to the first unranked candidate (digits then rank it).
        var unranked = $$('.cand', form).filter(function (c) { var r = $('select[name=rank]', c); return r && !r.value; })[0];
        if (unranked) { cursor = rows().indexOf(unranked); moveCursor(0); }
        var first = unranked ? null : $$('input[name=winner], input[name=strength], #response, #attack, input[name=outcome], input[name=severity]', form)
          .filter(function (i) { return i.type === 'radio' ? !$('input[name="' + i.name + '"]:checked', form) : !i.value.trim(); })[0];
        if (first) { first.scrollIntoView({ block: 'center' }); first.focus({ preventScroll: true }); }
      }
      return;
    }
    var p = payload();
    if (p.override && !p.rationale.trim()) { fail(err, 'An override needs a rationale saying why.', 'override'); $('#rationale', form).focus(); return; }
    busy = true;
    performance.clearMarks('pl-submit'); performance.clearMeasures('pl-submit-to-paint');
    performance.mark('pl-submit');
    var body = { payload: p, time_ms: Math.round(performance.now() - (startedAt || performance.now())) };
    PL.call('POST', api('/tasks/' + task.getAttribute('data-assignment') + '/submit'), body).then(function (res) {
      if (!res.ok) {
        busy = false;
        var e = res.body && res.body.error;
        if (e && e.code === 'priority_rule') {
          // Said once: the live check already names the problem in the footer; the
          // server's wording (ids, keys) is only the fallback, translated.
          $('#override-box', form).hidden = false;
          var live = check();
          if (live) { $('#rule', form).textContent = 'Refused. ' + $('#rule', form).textContent; }
          else {
            fail(err, 'Refused. Priority rule: ' + translate(e.message).replace(/ \(priority rule;[^)]*\)$/, '') +
              '. Fix the marks, or override with a rationale.', 'rule');
          }
          showRow((live && live.criterion) || e.criterion);
          return;
        }
        fail(err, (res.status === 422 ? 'Refused: ' : '') + translate(PL.message(res)), 'server');
        return;
      }
      clearDraft();
      countSubmitted();
      if (task.getAttribute('data-training')) {
        return PL.call('GET', '/ui/api/projects/' + encodeURIComponent(project) + '/feedback/' +
          encodeURIComponent(task.getAttribute('data-item')), undefined, 'text/html').then(function (fb) {
          busy = false;
          if (!fb.ok || !fb.text) { submitMark = true; return loadNext(); }
          host.innerHTML = fb.text;
          task = null; form = null;
          var next = $('#training-next', host);
          next.addEventListener('click', function () { loadNext(); });
          next.focus();
        });
      }
      submitMark = true;
      return loadNext().then(function () { busy = false; });
    }, function () { busy = false; PL.show(err, 'The server cannot be reached; your draft is kept.'); });
  }
  function clearStale() {
    var err = $('#server-error', form), why = err.getAttribute('data-why');
    if (err.hidden || !why) return;
    var o = $('#override', form);
    if ((why === 'override' && (!o.checked || $('#rationale', form).value.trim())) || (why === 'missing' && !missing().length)) fail(err, '');
    else if (why === 'missing') fail(err, 'Before submitting: ' + missing().join('; ') + '.', 'missing');
  }
  function openSkip() {
    var d = $('#skip-dialog');
    $('#skip-reason').value = '';
    PL.openDialog(d);
    $('#skip-reason').focus();
  }
  function skip(reason) {
    PL.call('POST', api('/tasks/' + task.getAttribute('data-assignment') + '/skip'), { reason: reason }).then(function (res) {
      if (!res.ok) { PL.show($('#server-error', form), PL.message(res)); return; }
      clearDraft();
      loadNext();
    });
  }

  // ---- Ranking by drag and drop: dropping X on Y puts X where Y is, ties kept as ranks.
  function initDrag() {
    var dragged = null;
    $$('.cand[draggable]', task).forEach(function (c) {
      c.addEventListener('dragstart', function (e) { dragged = c; e.dataTransfer.setData('text/plain', c.getAttribute('data-cand')); c.classList.add('dragging'); });
      c.addEventListener('dragend', function () { c.classList.remove('dragging'); });
      c.addEventListener('dragover', function (e) { e.preventDefault(); });
      c.addEventListener('drop', function (e) {
        e.preventDefault();
        if (!dragged || dragged === c) return;
        var sel = function (x) { return $('select[name=rank]', x); };
        var others = $$('.cand', task).filter(function (x) { return x !== dragged; })
          .sort(function (a, b) { return (+sel(a).value || 99) - (+sel(b).value || 99); });
        others.splice(others.indexOf(c), 0, dragged);
        others.forEach(function (x, i) { sel(x).value = String(i + 1); });
        form.dispatchEvent(new Event('change', { bubbles: true }));
      });
    });
  }

  // ---- Keyboard -------------------------------------------------------------------------------
  function setRadio(name, value) {
    var i = $('input[name="' + name + '"][value="' + value + '"]', form);
    if (i) { i.checked = true; i.dispatchEvent(new Event('change', { bubbles: true })); }
  }
  function idOfLetter(l) {
    var c = $$('.cand', task).filter(function (x) { return x.getAttribute('data-letter') === l; })[0];
    return c ? c.getAttribute('data-cand') : undefined;
  }
  function onKey(e) {
    if (!form || !task || task.getAttribute('data-none')) return;
    if (document.querySelector('dialog[open]')) return;
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); submit(); return; }
    if (PL.typing(e)) { if (e.key === 'Escape') e.target.blur(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var kind = form.getAttribute('data-kind'), k = e.key, rs = rows(), row = rs[cursor];
    if (k === 'Enter') return; // the focused control's own activation; Ctrl+Enter submits
    var handled = true;
    if (k === 'j' || k === 'ArrowDown') moveCursor(1);
    else if (k === 'k' || k === 'ArrowUp') moveCursor(-1);
    else if (kind === 'preference' && /^[abt]$/.test(k) && row && row.tagName === 'TR') {
      setRadio('c:' + row.getAttribute('data-key'), k === 't' ? 'tie' : idOfLetter(k.toUpperCase()));
      moveCursor(1);
    } else if (kind === 'preference' && /^[ABT]$/.test(k)) setRadio('winner', k === 'T' ? 'tie' : idOfLetter(k));
    else if (kind === 'preference' && /^[0-3]$/.test(k)) setRadio('strength', k);
    else if (kind === 'ranking' && /^[1-9]$/.test(k) && row) {
      var sel = $('select[name=rank]', row);
      if (sel && +k < sel.options.length) { sel.value = k; sel.dispatchEvent(new Event('change', { bubbles: true })); moveCursor(1); }
    } else if (kind === 'rating' && /^[0-9]$/.test(k) && row) {
      var empty = $$('input.score', row).filter(function (i) { return i.value === ''; })[0] || $('input.score', row);
      if (empty && (+k < +empty.min || +k > +empty.max)) {
        // Outside the scale: nothing is entered; the cell says why for a moment.
        empty.setAttribute('aria-invalid', 'true');
        $('#rule', form).className = 'rule bad';
        $('#rule', form).textContent = k + ' is outside the scale ' + empty.min + '–' + empty.max + ' of ' +
          titleOf(empty.getAttribute('data-crit')) + '.';
        setTimeout(function () { if (form) { empty.removeAttribute('aria-invalid'); check(); } }, 1500);
      } else if (empty) { empty.value = k; empty.dispatchEvent(new Event('input', { bubbles: true })); }
    } else if (kind === 'red_team' && /^[0-3]$/.test(k)) setRadio('severity', k);
    else if (k === 'e') { var t = $('input[name=err]', form); if (t) { t.closest('details').open = true; t.focus(); } }
    else if (k === 'f') { var f = $('input[name=edge]', form); if (f) f.focus(); }
    else if (k === 'r') $('#rationale', form).focus();
    else if (k === 'o') { var o = $('#override', form); $('#override-box', form).hidden = false; o.checked = !o.checked; o.dispatchEvent(new Event('change', { bubbles: true })); }
    else if (k === 'd') toggleDiff();
    else if (k === 'g') { var g = $('#guidelines', task); if (g) { g.open = !g.open; if (g.open) g.scrollIntoView({ block: 'nearest' }); } }
    else if (k === 'S' || k === 's') openSkip();
    else handled = false;
    if (handled) e.preventDefault();
  }

  document.addEventListener('DOMContentLoaded', function () {
    host = $('#task-host');
    if (!host) return;
    project = host.getAttribute('data-project');
    document.addEventListener('keydown', onKey);
    $('#skip-form').addEventListener('submit', function (e) {
      var reason = $('#skip-reason').value.trim();
      if (!reason) { e.preventDefault(); return; }
      skip(reason);
    });
    $('#skip-cancel').addEventListener('click', function () { PL.closeDialog($('#skip-dialog')); });
    timerId = setInterval(tick, 1000);
    // Leaving the page keeps the lease: the next load of this page gets the same item
    // back (the server's `next` returns a held lease) with its draft; skip gives it away.
    loadNext();
  });
})();
