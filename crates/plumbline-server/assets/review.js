// Plumbline: the adjudication queue. Each decision form is the task kind's own judging
// form (judgment.js reads, fills and checks it), started from a judgment and posted to
// the JSON API.
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
      from[+e.key - 1].dispatchEvent(new Event('change', { bubbles: true }));
    } else if (e.key === 'r') { form.querySelector('[name=rationale]').focus(); }
    else if (e.key === 'g' && (form.gold || form.propose)) { var g = form.gold || form.propose; g.checked = !g.checked; }
    else return;
    e.preventDefault();
    form.scrollIntoView({ block: 'nearest' });
  });
  cases.querySelectorAll('form.decide').forEach(function (form) {
    var item = form.getAttribute('data-item');
    var err = form.querySelector('.error');
    var J = PL.judgment(form);
    function start(radio) { J.fill(JSON.parse(radio.getAttribute('data-payload'))); }
    form.querySelectorAll('input[name=from]').forEach(function (r) {
      r.addEventListener('change', function () { if (r.checked) start(r); });
    });
    var first = form.querySelector('input[name=from]:checked');
    if (first) start(first);
    form.addEventListener('change', function (e) { if (e.target.name !== 'from') { J.changed(e.target); J.check(); } });
    form.addEventListener('input', function () { J.check(); });
    form.addEventListener('keydown', function (e) {
      // Enter in a radio, checkbox or field never submits the whole form implicitly.
      if (e.key === 'Enter' && !(e.ctrlKey || e.metaKey) && e.target.tagName === 'INPUT') e.preventDefault();
    });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      PL.show(err, '');
      var range = J.rangeErrors();
      if (range) { PL.show(err, range); return; }
      var need = J.missing();
      if (need.length) { PL.show(err, 'Before deciding: ' + need.join('; ') + '.'); return; }
      var rationale = form.querySelector('[name=rationale]');
      if (!rationale.value.trim()) { PL.show(err, 'A decision needs a rationale.'); rationale.focus(); return; }
      var body = { payload: J.payload(), rationale: rationale.value,
        promote_to_gold: !!(form.gold && form.gold.checked) };
      PL.call('POST', '/api/v1/projects/' + encodeURIComponent(project) + '/adjudication/' +
        encodeURIComponent(item), body).then(function (res) {
        if (!res.ok) { PL.show(err, PL.message(res)); return; }
        var section = form.closest('section');
        var done = document.createElement('p');
        done.className = 'rule ok decided';
        done.textContent = 'Decided' + (res.body && res.body.gold ? ' and promoted to gold.' : '.');
        var finish = function () { form.replaceWith(done); section.classList.add('done'); };
        if (!(form.propose && form.propose.checked)) { finish(); return; }
        // A reviewer's decision proposed as gold waits for a lead.
        PL.call('POST', '/api/v1/projects/' + encodeURIComponent(project) + '/gold/candidates',
          { item: item, payload: body.payload }).then(function (g) {
          done.textContent = g.ok ? 'Decided, and proposed as gold for a lead to accept.'
            : 'Decided; the gold proposal was refused: ' + PL.message(g);
          finish();
        });
      });
    });
  });
});
