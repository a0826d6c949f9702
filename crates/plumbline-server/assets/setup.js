// Plumbline: the lead's setup page (settings, rubric versions, import by upload).
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var root = document.getElementById('setup');
  if (!root) return;
  var base = '/api/v1/projects/' + root.getAttribute('data-project');
  // Settings: only the fields whose value changed go in the PATCH; an empty
  // expert-judgments or most-judgments field means automatic (null).
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
      patch[i.name] = v === '' ? null : Number(v);
      named += 1;
    });
    if (!named) { PL.show(ok, 'Nothing changed.'); return; }
    PL.call('PATCH', base, patch).then(function (res) {
      if (!res.ok) {
        PL.show(err, PL.message(res));
        var field = res.body && res.body.error && res.body.error.field;
        var bad = field && settings.querySelector('input[name="' + field + '"]');
        if (bad) { bad.setAttribute('aria-invalid', 'true'); bad.focus(); }
        return;
      }
      var now = res.body.settings;
      inputs.forEach(function (i) {
        var v = now[i.name];
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
    PL.call('POST', base + '/rubrics', { toml: rubric.toml.value }).then(function (res) {
      if (!res.ok) { PL.show(err, PL.message(res)); return; }
      PL.show(ok, 'Saved as version ' + res.body.version + '.');
      rubric.querySelector('button[type=submit]').textContent = 'Save as version ' + (res.body.version + 1);
      rubric.querySelector('label').textContent = 'Rubric (TOML), version ' + res.body.version;
    });
  });
  var imp = document.getElementById('import-form');
  imp.addEventListener('submit', function (e) {
    e.preventDefault();
    var err = document.getElementById('import-error'), ok = document.getElementById('import-done');
    PL.show(err, ''); PL.show(ok, '');
    var file = imp.file.files[0];
    if (!file) { PL.show(err, 'Choose a file first.'); return; }
    file.text().then(function (text) {
      return PL.call('POST', base + '/items' + (imp.update.checked ? '?update=true' : ''), { raw: text });
    }).then(function (res) {
      var b = res.body || {};
      if (res.ok) {
        PL.show(ok, b.imported + ' imported, ' + b.unchanged + ' unchanged, ' + b.updated + ' updated.');
        return;
      }
      var lines = (b.errors || []).map(function (l) { return 'line ' + l.line + (l.field ? ' (' + l.field + ')' : '') + ': ' + l.reason; });
      (b.conflicts || []).forEach(function (c) { lines.push('line ' + c.line + ' (' + c.id + '): ' + c.reason); });
      PL.show(err, lines.length ? 'Nothing was stored. ' + lines.join('; ') : PL.message(res));
    });
  });
});
