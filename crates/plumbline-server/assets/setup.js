// Plumbline: the lead's setup page (settings, rubric versions, import by upload).
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var root = document.getElementById('setup');
  if (!root) return;
  var base = '/api/v1/projects/' + root.getAttribute('data-project');
  // Settings: only the fields whose value changed go in the PATCH; an empty
  // expert-judgments or most-judgments field means automatic (null).
  // `edge:a=0.05, edge:b=0.1` as the quota list; a piece without `=share` goes as a
  // share the server refuses by name.
  function quotas(text) {
    return text.split(',').map(function (p) { return p.trim(); }).filter(Boolean).map(function (p) {
      var at = p.lastIndexOf('=');
      return at < 0 ? { tag: p, min_share: null } : { tag: p.slice(0, at).trim(), min_share: Number(p.slice(at + 1)) };
    });
  }
  var settings = document.getElementById('settings-form');
  settings.addEventListener('submit', function (e) {
    e.preventDefault();
    var err = document.getElementById('settings-error'), ok = document.getElementById('settings-done');
    PL.show(err, ''); PL.show(ok, '');
    var inputs = settings.querySelectorAll('input[data-initial]');
    var patch = {}, named = 0;
    inputs.forEach(function (i) {
      i.removeAttribute('aria-invalid');
      var v = i.value.trim();
      if (v === i.getAttribute('data-initial')) return;
      patch[i.name] = i.getAttribute('data-kind') === 'quotas' ? quotas(v) : v === '' ? null : Number(v);
      named += 1;
    });
    if (!named) { PL.show(ok, 'Nothing changed.'); return; }
    PL.call('PATCH', base, patch).then(function (res) {
      if (!res.ok) {
        PL.show(err, PL.message(res));
        // `edge_case_quotas[1].min_share` is the quotas field.
        var field = res.body && res.body.error && res.body.error.field;
        var bad = field && settings.querySelector('input[name="' + field.split('[')[0] + '"]');
        if (bad) { bad.setAttribute('aria-invalid', 'true'); bad.focus(); }
        return;
      }
      var now = res.body.settings;
      inputs.forEach(function (i) {
        var v = now[i.name];
        if (Array.isArray(v)) v = v.map(function (q) { return q.tag + '=' + q.min_share; }).join(', ');
        i.value = v === null || v === undefined ? '' : String(v);
        i.setAttribute('data-initial', i.value);
      });
      PL.show(ok, 'Saved: ' + Object.keys(patch).join(', ') + '.');
    });
  });
  var rubric = document.getElementById('rubric-form');
  rubric.addEventListener('submit', function (e) {
    e.preventDefault();
    var err = rubric.querySelector('.error'), ok = rubric.querySelector('.rule');
    PL.show(err, ''); PL.show(ok, '');
    var tell = function (good, message) {
      document.dispatchEvent(new CustomEvent('rubric-saved', { detail: { ok: good, message: message } }));
    };
    PL.call('POST', base + '/rubrics', { toml: rubric.toml.value }).then(function (res) {
      if (!res.ok) { PL.show(err, PL.message(res)); tell(false, PL.message(res)); return; }
      PL.show(ok, 'Saved as version ' + res.body.version + '.');
      tell(true, 'Saved as version ' + res.body.version + '.');
      rubric.querySelector('button[type=submit]').textContent = 'Save as version ' + (res.body.version + 1);
      rubric.querySelector('label').textContent = 'Rubric (TOML), version ' + res.body.version;
    });
  });
  var imp = document.getElementById('import-form');
  imp.addEventListener('submit', function (e) {
    e.preventDefault();
    var err = document.getElementById('import-error'), ok = document.getElementById('import-done');
    var list = document.getElementById('import-error-list');
    err.hidden = true; list.textContent = ''; PL.show(ok, '');
    var file = imp.file.files[0];
    var fail = function (summary, lines, count) {
      document.getElementById('import-error-summary').textContent = summary;
      (lines || []).forEach(function (t) { var li = document.createElement('li'); li.textContent = t; list.appendChild(li); });
      PL.show(document.getElementById('import-error-count'), count || '');
      err.hidden = false;
    };
    if (!file) { fail('Choose a file first.'); return; }
    var q = '?format=' + encodeURIComponent(imp.format.value) + (imp.update.checked ? '&update=true' : '') + '&report_errors=1000';
    if (imp.mapping.value.trim()) q += '&mapping=' + encodeURIComponent(imp.mapping.value);
    PL.call('POST', base + '/items' + q, file).then(function (res) {
      var b = res.body || {};
      if (res.ok) {
        PL.show(ok, b.imported + ' imported, ' + b.unchanged + ' unchanged, ' + b.updated + ' updated (read as ' +
          b.format + ': ' + b.detected + ').');
        return;
      }
      var lines = (b.errors || []).map(function (l) { return 'line ' + l.line + (l.field ? ', ' + l.field : '') + ': ' + l.reason; });
      (b.conflicts || []).forEach(function (c) { lines.push('line ' + c.line + ', id ' + c.id + ': ' + c.reason); });
      if (!lines.length) { fail(PL.message(res)); return; }
      var n = Math.max(b.error_count || 0, lines.length);
      fail('Nothing was stored. ', lines, n + (n === 1 ? ' bad record' : ' bad records') +
        (n > lines.length ? ', the first ' + lines.length + ' listed.' : '.'));
    });
  });
});
