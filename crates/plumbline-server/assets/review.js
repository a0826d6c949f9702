// Plumbline: the adjudication queue. Each decision form posts to the JSON API.
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var cases = document.getElementById('cases');
  if (!cases) return;
  var project = cases.getAttribute('data-project');
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
