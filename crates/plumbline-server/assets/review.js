// Plumbline: the adjudication queue. Each decision form posts to the JSON API.
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var cases = document.getElementById('cases');
  if (!cases) return;
  var project = cases.getAttribute('data-project');
  // Keys act on the first case not yet decided: 1-9 start from that judgment, r writes the
  // rationale, g toggles promote-to-gold, Ctrl+Enter decides.
  document.addEventListener('keydown', function (e) {
    if (document.querySelector('dialog[open]')) return;
    var form = cases.querySelector('form.decide');
    if (!form) return;
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); return; }
    if (PL.typing(e)) { if (e.key === 'Escape') e.target.blur(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var from = form.querySelectorAll('input[name=from]');
    if (/^[1-9]$/.test(e.key) && from[+e.key - 1]) {
      from[+e.key - 1].checked = true;
      from[+e.key - 1].dispatchEvent(new Event('change'));
    } else if (e.key === 'r') { form.rationale.focus(); }
    else if (e.key === 'g' && form.gold) { form.gold.checked = !form.gold.checked; }
    else return;
    e.preventDefault();
    form.scrollIntoView({ block: 'nearest' });
  });
  cases.querySelectorAll('form.decide').forEach(function (form) {
    var item = form.getAttribute('data-item');
    var err = form.querySelector('.error');
    form.querySelectorAll('input[name=from]').forEach(function (r) {
      r.addEventListener('change', function () {
        form.payload.value = JSON.stringify(JSON.parse(r.getAttribute('data-payload')), null, 1);
      });
    });
    if (form.payload.value) {
      try { form.payload.value = JSON.stringify(JSON.parse(form.payload.value), null, 1); } catch (e) { /* keep */ }
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      PL.show(err, '');
      var payload;
      try { payload = JSON.parse(form.payload.value); } catch (x) {
        PL.show(err, 'The payload is not valid JSON: ' + x.message); return;
      }
      if (!form.rationale.value.trim()) { PL.show(err, 'A decision needs a rationale.'); form.rationale.focus(); return; }
      var body = { payload: payload, rationale: form.rationale.value,
        promote_to_gold: !!(form.gold && form.gold.checked) };
      PL.call('POST', '/api/v1/projects/' + encodeURIComponent(project) + '/adjudication/' +
        encodeURIComponent(item), body).then(function (res) {
        if (!res.ok) { PL.show(err, PL.message(res)); return; }
        var section = form.closest('section');
        var done = document.createElement('p');
        done.className = 'rule ok decided';
        done.textContent = 'Decided' + (res.body && res.body.gold ? ' and promoted to gold.' : '.');
        form.replaceWith(done);
        section.classList.add('done');
      });
    });
  });
});
