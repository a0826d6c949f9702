// Plumbline: a judgment form, as the judging page and the review page's decision form
// render it (one renderer, `judge::judging_controls`). Reads the payload from the
// controls, fills the controls from a payload, and checks the priority rule live,
// mirroring plumbline_domain::judgment::priority exactly. Everything is found inside
// the form by name or data attribute, so several forms can share a page.
'use strict';
PL.judgment = function (form) {
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // ---- The rubric, as the fragment carries it ------------------------------------
  function rubric() {
    var crit = $$('[data-rubric] i[data-criterion]', form).map(function (i) {
      return { key: i.getAttribute('data-criterion'), priority: +i.getAttribute('data-priority'),
        hard: i.getAttribute('data-hard') === 'true', title: i.getAttribute('data-title') || i.getAttribute('data-criterion') };
    }).sort(function (a, b) { return a.priority - b.priority; });
    var errors = {};
    $$('[data-rubric] i[data-error]', form).forEach(function (i) { errors[i.getAttribute('data-error')] = i.getAttribute('data-of'); });
    return { criteria: crit, errors: errors };
  }
  function candidates() { return $$('.cand', form).map(function (c) { return c.getAttribute('data-cand'); }); }
  function letterOf(id) {
    var c = $$('.cand', form).filter(function (x) { return x.getAttribute('data-cand') === id; })[0];
    return c ? c.getAttribute('data-letter') : id;
  }
  // Messages name candidates by the letter on screen, criteria by their titles and
  // error tags in words: never the ids and keys the payload carries.
  function describe(choice) { return choice === 'tie' ? 'Tie' : letterOf(choice); }
  function titleOf(key) {
    var i = $$('[data-rubric] i[data-criterion]', form).filter(function (x) { return x.getAttribute('data-criterion') === key; })[0];
    return i ? i.getAttribute('data-title') : key;
  }
  function tagName(tag) { return '“' + String(tag).replace(/_/g, ' ') + '”'; }
  function carries(x, hv) { return letterOf(x) + ' carries the hard violation ' + tagName(hv.tag) + ' (' + hv.crit.title + ')'; }

  // The hard violation `cand` carries whose criterion has the highest priority.
  function hardViolation(r, violations, cand) {
    var best = null;
    (violations[cand] || []).forEach(function (tag) {
      var ck = r.errors[tag];
      var c = r.criteria.filter(function (x) { return x.key === ck; })[0];
      if (c && c.hard && (!best || c.priority < best.crit.priority)) best = { tag: tag, crit: c };
    });
    return best;
  }

  // check_preference: the order half, then the hard half. Returns null or {criterion, explanation}.
  function checkPreference(r, cands, winner, criteria, violations) {
    var complete = true, deciding = null;
    for (var i = 0; i < r.criteria.length; i++) {
      var c = r.criteria[i], v = criteria[c.key];
      if (v === undefined) { complete = false; break; }
      if (v !== 'tie') { deciding = { crit: c, choice: v }; break; }
    }
    if (winner !== undefined) {
      if (deciding && deciding.choice !== winner) {
        return { criterion: deciding.crit.key, explanation: 'the overall winner is ' + describe(winner) + ' but ' +
          describe(deciding.choice) + ' wins on ' + deciding.crit.title +
          ', the first criterion not marked tie' };
      }
      if (!deciding && complete && winner !== 'tie' && r.criteria.length) {
        return { criterion: r.criteria[0].key, explanation: 'the overall winner is ' + describe(winner) +
          ' but every criterion is marked tie, so the overall winner must be Tie' };
      }
      if (winner !== 'tie') {
        var hv = hardViolation(r, violations, winner);
        if (hv) {
          var clean = cands.filter(function (c) { return c !== winner && !hardViolation(r, violations, c); })[0];
          if (clean !== undefined) {
            return { criterion: hv.crit.key, explanation: carries(winner, hv) + ' and cannot beat ' + letterOf(clean) + ', which carries none' };
          }
        }
      }
    }
    return null;
  }

  // check_ranking: no hard violator strictly above a clean candidate.
  function checkRanking(r, order, violations) {
    for (var i = 0; i < order.length; i++) {
      for (var k = 0; k < order[i].length; k++) {
        var x = order[i][k], hv = hardViolation(r, violations, x);
        if (!hv) continue;
        for (var j = i + 1; j < order.length; j++) {
          for (var m = 0; m < order[j].length; m++) {
            if (!hardViolation(r, violations, order[j][m])) {
              return { criterion: hv.crit.key, explanation: carries(x, hv) + ' and is ranked above ' + letterOf(order[j][m]) + ', which carries none' };
            }
          }
        }
      }
    }
    return null;
  }

  // check_rating: scores compared lexicographically in priority order.
  function checkRating(r, cands, scores, violations) {
    for (var i = 0; i < cands.length; i++) {
      var x = cands[i], hv = hardViolation(r, violations, x);
      if (!hv) continue;
      for (var j = 0; j < cands.length; j++) {
        var y = cands[j];
        if (x === y || hardViolation(r, violations, y)) continue;
        var sx = scores[x] || {}, sy = scores[y] || {};
        for (var k = 0; k < r.criteria.length; k++) {
          var key = r.criteria[k].key, a = sx[key], b = sy[key];
          if (a === undefined || b === undefined) break;
          if (a !== b) {
            if (a > b) {
              return { criterion: hv.crit.key, explanation: carries(x, hv) + ' yet its scores put it above ' + letterOf(y) +
                ', which carries none (they first differ on ' + r.criteria[k].title + ': ' + a + ' vs ' + b + ')' };
            }
            break;
          }
        }
      }
    }
    return null;
  }

  // ---- Reading the form ----------------------------------------------------------
  function checked(name) { var i = $('input[name="' + name + '"]:checked', form); return i ? i.value : undefined; }
  function violations() {
    var v = {};
    candidates().forEach(function (c) { v[c] = []; });
    $$('input[name=err]:checked', form).forEach(function (i) { v[i.getAttribute('data-cand')].push(i.value); });
    return v;
  }
  function edges() { return $$('input[name=edge]:checked', form).map(function (i) { return i.value; }); }
  function criteriaMarks() {
    var m = {};
    rubric().criteria.forEach(function (c) { var v = checked('c:' + c.key); if (v !== undefined) m[c.key] = v; });
    return m;
  }
  function rankingOrder() {
    var groups = {};
    $$('select[name=rank]', form).forEach(function (s) { if (s.value) (groups[s.value] = groups[s.value] || []).push(s.getAttribute('data-cand')); });
    return Object.keys(groups).sort(function (a, b) { return a - b; }).map(function (k) { return groups[k]; });
  }
  function ratingScores() {
    var s = {};
    $$('input[name=score]', form).forEach(function (i) {
      if (i.value === '' || outOfScale(i)) return;
      var c = i.getAttribute('data-cand');
      (s[c] = s[c] || {})[i.getAttribute('data-crit')] = parseInt(i.value, 10);
    });
    return s;
  }
  function outOfScale(i) {
    var v = Number(i.value);
    return i.value !== '' && (!/^-?\d+$/.test(i.value.trim()) || v < +i.min || v > +i.max);
  }
  // Scores outside their scale, each input marked invalid; one sentence naming them.
  function rangeErrors() {
    var bad = [];
    $$('input[name=score]', form).forEach(function (i) {
      var out = outOfScale(i) || (i.validity && i.validity.badInput);
      if (out) { i.setAttribute('aria-invalid', 'true'); } else { i.removeAttribute('aria-invalid'); }
      if (out) bad.push(titleOf(i.getAttribute('data-crit')) + ' for ' + letterOf(i.getAttribute('data-cand')) + ': ' +
        (i.value === '' ? 'not a number' : i.value) + ' is outside ' + i.min + '–' + i.max);
    });
    return bad.length ? 'Scores are whole numbers on their scale. ' + bad.join('; ') + '.' : '';
  }
  // Everything the payload still lacks, in words, all at once (empty when complete).
  function missing() {
    var kind = form.getAttribute('data-kind'), need = [];
    if (kind === 'preference') {
      var marks = criteriaMarks();
      var open = rubric().criteria.filter(function (c) { return marks[c.key] === undefined; }).map(function (c) { return c.title; });
      if (open.length) need.push('mark ' + open.join(', '));
      if (checked('winner') === undefined) need.push('choose the overall winner');
      if (checked('strength') === undefined) need.push('choose a strength');
    } else if (kind === 'ranking') {
      var unranked = $$('select[name=rank]', form).filter(function (s) { return !s.value; })
        .map(function (s) { return letterOf(s.getAttribute('data-cand')); });
      if (unranked.length) need.push('give ' + unranked.join(', ') + ' a rank');
      else if (allTied() && !$('[name=all_tied]', form).checked) need.push('confirm that every candidate is equally good, or rank them apart');
    } else if (kind === 'rating') {
      var gaps = [];
      rubric().criteria.forEach(function (c) {
        var empty = $$('input[name=score]', form).filter(function (i) { return i.getAttribute('data-crit') === c.key && i.value === ''; })
          .map(function (i) { return letterOf(i.getAttribute('data-cand')); });
        if (empty.length) gaps.push(c.title + ' (' + empty.join(', ') + ')');
      });
      if (gaps.length) need.push('score ' + gaps.join(', '));
    } else if (kind === 'demonstration') {
      if (!$('[name=response]', form).value.trim()) need.push('write the ideal response');
    } else {
      if (!$('[name=attack]', form).value.trim()) need.push('write the attack');
      var reply = $('[name=reply]', form);
      if (reply && reply.getAttribute('data-needed') === 'true' && !reply.value.trim()) need.push("give the target's reply");
      $$('.turn', form).forEach(function (t, n) {
        if (!$('[name=turn_attack]', t).value.trim() || !$('[name=turn_reply]', t).value.trim())
          need.push('complete turn ' + (n + 2) + ' (its attack and the reply)');
      });
      if (checked('outcome') === undefined) need.push('choose the outcome');
      if (checked('severity') === undefined) need.push('choose a severity');
    }
    return need;
  }
  function allTied() {
    var ranks = $$('select[name=rank]', form).map(function (s) { return s.value; });
    return ranks.length > 1 && ranks.every(function (v) { return v && v === ranks[0]; });
  }
  function payload() {
    var kind = form.getAttribute('data-kind');
    var common = { violations: violations(), rationale: $('[name=rationale]', form).value, edge_cases: edges(),
      override: $('[name=override]', form).checked };
    var p;
    if (kind === 'preference') {
      var strength = checked('strength');
      p = { winner: checked('winner'), strength: strength === undefined ? undefined : +strength, criteria: criteriaMarks() };
    } else if (kind === 'ranking') {
      p = { order: rankingOrder() };
    } else if (kind === 'rating') {
      p = { scores: ratingScores() };
    } else if (kind === 'demonstration') {
      p = { response: $('[name=response]', form).value, based_on: $('[name=based_on]', form).value || null };
    } else {
      var sev = checked('severity');
      p = { attack: $('[name=attack]', form).value, reply: $('[name=reply]', form).value,
        turns: $$('.turn', form).map(function (t) {
          return { attack: $('[name=turn_attack]', t).value, reply: $('[name=turn_reply]', t).value };
        }),
        tactic: $('[name=tactic]', form).value, outcome: checked('outcome'),
        severity: sev === undefined ? undefined : +sev };
    }
    for (var k in common) p[k] = common[k];
    return p;
  }

  // ---- Live check ----------------------------------------------------------------
  function check() {
    if (!form) return null;
    var kind = form.getAttribute('data-kind'), r = rubric(), v = violations(), problem = null, note = '', touched = false;
    var range = rangeErrors();
    $$('tr.crit', form).forEach(function (tr) { tr.classList.remove('decides'); });
    if (kind === 'preference') {
      var marks = criteriaMarks();
      touched = Object.keys(marks).length > 0 || checked('winner') !== undefined;
      problem = checkPreference(r, candidates(), checked('winner'), marks, v);
      var first = r.criteria.filter(function (c) { return marks[c.key] !== undefined && marks[c.key] !== 'tie'; })[0];
      var gap = r.criteria.filter(function (c) { return marks[c.key] === undefined; })[0];
      if (first && (!gap || gap.priority > first.priority)) {
        var row = $('tr.crit[data-key="' + first.key + '"]', form);
        if (row) row.classList.add('decides');
        note = 'Decided by ' + first.title + ': ' + letterOf(marks[first.key]) + ' should win.';
      } else if (!gap) {
        note = 'Every criterion is tied: the winner must be tie.';
      } else {
        note = 'Mark the criteria from the top; the first one not tied decides.';
        touched = false;
      }
    } else if (kind === 'ranking') {
      touched = $$('select[name=rank]', form).some(function (s) { return !!s.value; });
      problem = checkRanking(r, rankingOrder(), v);
      $('[data-box=all-tied]', form).hidden = !allTied();
    } else if (kind === 'rating') {
      touched = $$('input[name=score]', form).some(function (i) { return i.value !== ''; });
      problem = checkRating(r, candidates(), ratingScores(), v);
    }
    var el = $('[data-rule]', form);
    if (problem) {
      el.className = 'rule bad';
      el.textContent = 'Priority rule: ' + problem.explanation + '. Fix the marks, or override with a rationale.';
      $('[data-box=override]', form).hidden = false;
    } else if (range) {
      el.className = 'rule bad';
      el.textContent = range;
    } else if (!touched) {
      // Nothing judged yet: guidance, not a verdict.
      el.className = 'rule';
      el.textContent = note;
    } else {
      el.className = 'rule ok';
      el.textContent = note || 'Consistent with the priority rule.';
    }
    return problem;
  }


  // ---- Further attack turns (red team) -------------------------------------------------
  // A turn is a fieldset cloned from the form's template: its next attack and the
  // target's reply to it; at most data-max of them.
  function addTurn() {
    var box = $('[data-turns]', form), tpl = $('template[data-turn-template]', form);
    if (!box || !tpl) return null;
    if ($$('.turn', box).length >= +box.getAttribute('data-max')) return null;
    box.appendChild(tpl.content.cloneNode(true));
    var turns = $$('.turn', box), t = turns[turns.length - 1];
    $('legend', t).textContent = 'Turn ' + (turns.length + 1);
    return t;
  }
  function renumberTurns() {
    $$('.turn', form).forEach(function (t, n) { $('legend', t).textContent = 'Turn ' + (n + 2); });
  }
  form.addEventListener('click', function (e) {
    var add = e.target.closest && e.target.closest('[data-add-turn]');
    if (add) {
      var t = addTurn();
      if (t) { $('[name=turn_attack]', t).focus(); t.scrollIntoView({ block: 'nearest' }); }
      return;
    }
    var remove = e.target.closest && e.target.closest('[data-remove-turn]');
    if (remove) {
      remove.closest('.turn').remove();
      renumberTurns();
      check();
    }
  });

  // ---- Filling the form from a payload ---------------------------------------------
  // The controls a payload sets (the review form's own fields are left alone).
  var PAYLOAD_CHOICES = /^(err|edge|winner|strength|outcome|severity|all_tied|override|c:.*)$/;
  var PAYLOAD_FIELDS = /^(rank|score|response|attack|reply|tactic|based_on)$/;
  function tick(name, value) {
    $$('input', form).forEach(function (i) {
      if (i.name === name && i.value === String(value)) i.checked = true;
    });
  }
  function fill(p) {
    p = p || {};
    var kind = form.getAttribute('data-kind');
    $$('input, select, textarea', form).forEach(function (i) {
      if ((i.type === 'radio' || i.type === 'checkbox') && PAYLOAD_CHOICES.test(i.name)) i.checked = false;
      else if (PAYLOAD_FIELDS.test(i.name)) i.value = '';
      i.removeAttribute('aria-invalid');
    });
    if (kind === 'preference') {
      if (p.winner !== undefined) tick('winner', p.winner);
      if (p.strength !== undefined) tick('strength', p.strength);
      Object.keys(p.criteria || {}).forEach(function (k) { tick('c:' + k, p.criteria[k]); });
    } else if (kind === 'ranking') {
      // Each tied group shares one rank: [["b"], ["c", "d"], ["a"]] ranks b 1, c and d 2, a 3.
      (p.order || []).forEach(function (group, n) {
        (Array.isArray(group) ? group : [group]).forEach(function (id) {
          $$('select[name=rank]', form).forEach(function (s) {
            if (s.getAttribute('data-cand') === id) s.value = String(n + 1);
          });
        });
      });
      var all = $('[name=all_tied]', form);
      if (all) all.checked = allTied();
    } else if (kind === 'rating') {
      $$('input[name=score]', form).forEach(function (i) {
        var s = (p.scores || {})[i.getAttribute('data-cand')] || {};
        var v = s[i.getAttribute('data-crit')];
        i.value = v === undefined ? '' : String(v);
      });
    } else if (kind === 'demonstration') {
      $('[name=response]', form).value = p.response || '';
      $('[name=based_on]', form).value = p.based_on || '';
    } else {
      $('[name=attack]', form).value = p.attack || '';
      $('[name=reply]', form).value = p.reply || '';
      $$('.turn', form).forEach(function (t) { t.remove(); });
      (p.turns || []).forEach(function (turn) {
        var t = addTurn();
        if (!t) return;
        $('[name=turn_attack]', t).value = turn.attack || '';
        $('[name=turn_reply]', t).value = turn.reply || '';
      });
      $('[name=tactic]', form).value = p.tactic || '';
      if (p.outcome !== undefined) tick('outcome', p.outcome);
      if (p.severity !== undefined) tick('severity', p.severity);
    }
    var v = p.violations || {};
    $$('input[name=err]', form).forEach(function (i) {
      i.checked = (v[i.getAttribute('data-cand')] || []).indexOf(i.value) >= 0;
    });
    $$('input[name=edge]', form).forEach(function (i) { i.checked = (p.edge_cases || []).indexOf(i.value) >= 0; });
    var o = $('[name=override]', form);
    if (o) {
      o.checked = !!p.override;
      var box = $('[data-box=override]', form);
      if (box && o.checked) box.hidden = false;
    }
    check();
  }

  // What one change implies for the others: a tie has strength 0, and choosing the
  // candidate a demonstration starts from copies its text into the response.
  function candText(id) {
    var c = $$('.cand', form).filter(function (x) { return x.getAttribute('data-cand') === id; })[0];
    return c ? $('.ctext', c).textContent : '';
  }
  function changed(t) {
    if (t.name === 'winner' && t.value === 'tie') tick('strength', 0);
    if (t.name === 'based_on') $('[name=response]', form).value = t.value ? candText(t.value) : '';
  }

  return {
    rubric: rubric, candidates: candidates, letterOf: letterOf, titleOf: titleOf, tagName: tagName,
    checked: checked, missing: missing, rangeErrors: rangeErrors, payload: payload, check: check, fill: fill,
    changed: changed, candText: candText
  };
};
