// Plumbline: the rubric's structured editor on the setup page. TOML stays the source:
// choosing the Form tab parses the TOML on the server (the domain's one parser) and
// draws the form; choosing TOML, or saving, turns the form back into TOML the same
// way. Criteria are in priority order (Up/Down move them). Text goes in by value and
// textContent only.
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var editor = document.getElementById('rubric-editor');
  if (!editor) return;
  var form = document.getElementById('rubric-form');
  var tomlPanel = document.getElementById('rubric-toml-panel');
  var toml = document.getElementById('rubric-toml');
  var tabToml = document.getElementById('rubric-tab-toml');
  var tabForm = document.getElementById('rubric-tab-form');
  var switchErr = document.getElementById('rubric-switch-error');
  var SEVERITIES = ['minor', 'major', 'critical'];

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  // A labelled control; `kind` is input type, 'textarea' or 'select' (with options).
  function field(label, name, value, kind, options) {
    var c;
    if (kind === 'textarea') { c = el('textarea', { rows: '3' }); c.value = value || ''; }
    else if (kind === 'select') {
      c = el('select');
      options.forEach(function (o) { c.appendChild(el('option', { value: o, text: o })); });
      c.value = value;
    } else if (kind === 'checkbox') { c = el('input', { type: 'checkbox' }); c.checked = !!value; }
    else { c = el('input', { type: kind || 'text' }); c.value = value === undefined || value === null ? '' : String(value); }
    c.setAttribute('data-f', name);
    var l = el('label', { 'class': kind === 'checkbox' ? 'check' : '' }, [document.createTextNode(label + ' '), c]);
    return l;
  }
  function button(text, act, label) {
    var b = el('button', { type: 'button', 'class': 'link', 'data-act': act, text: text });
    if (label) b.setAttribute('aria-label', label);
    return b;
  }
  function val(scope, name) {
    var c = scope.querySelector('[data-f="' + name + '"]');
    return c.type === 'checkbox' ? c.checked : c.value;
  }
  function labelsText(map) {
    return Object.keys(map || {}).map(function (k) { return k + ' = ' + map[k]; }).join('\n');
  }

  function criterion(c) {
    var s = c.scale || { min: 1, max: 5 };
    return el('fieldset', { 'class': 'crit', 'data-kind': 'criterion' }, [
      el('legend', { text: 'Criterion' }),
      el('div', { 'class': 'inline-fields' }, [
        field('Key', 'key', c.key), field('Title', 'title', c.title),
        field('Lowest score', 'min', s.min, 'number'), field('Highest score', 'max', s.max, 'number'),
        field('hard (a violation loses outright)', 'hard', c.hard, 'checkbox')
      ]),
      field('Description', 'description', c.description, 'textarea'),
      field('Scale point labels, one "score = label" a line', 'scale_labels', labelsText(c.scale_labels), 'textarea'),
      el('p', { 'class': 'actions' }, [button('Up', 'up', 'Move up'), button('Down', 'down', 'Move down'), button('Remove', 'remove')])
    ]);
  }
  function errorTag(e) {
    return el('fieldset', { 'class': 'crit', 'data-kind': 'error' }, [
      el('legend', { text: 'Error tag' }),
      el('div', { 'class': 'inline-fields' }, [
        field('Key', 'key', e.key), field('Criterion key', 'criterion', e.criterion),
        field('Severity', 'severity', e.severity || 'major', 'select', SEVERITIES)
      ]),
      field('Description', 'description', e.description, 'textarea'),
      el('p', { 'class': 'actions' }, [button('Remove', 'remove')])
    ]);
  }
  function edgeCase(e) {
    return el('fieldset', { 'class': 'crit', 'data-kind': 'edge' }, [
      el('legend', { text: 'Edge case' }),
      field('Key (items carry it as edge:key)', 'key', e.key),
      field('Description', 'description', e.description, 'textarea'),
      el('p', { 'class': 'actions' }, [button('Remove', 'remove')])
    ]);
  }
  function section(title, kind, items, make) {
    var list = el('div', { 'class': 'stack', 'data-list': kind });
    items.forEach(function (i) { list.appendChild(make(i)); });
    return el('section', {}, [el('h3', { text: title }), list,
      el('p', {}, [el('button', { type: 'button', 'data-add': kind, text: 'Add ' + title.toLowerCase().replace(/s$/, '').replace(/ca$/, 'case') })])]);
  }
  var makers = { criterion: criterion, error: errorTag, edge: edgeCase };

  function draw(r) {
    editor.textContent = '';
    editor.appendChild(field('Name', 'name', r.name));
    editor.appendChild(field('Guidelines for annotators', 'guidelines', r.guidelines, 'textarea'));
    editor.appendChild(section('Criteria (highest priority first)', 'criterion', r.criteria || [], criterion));
    editor.appendChild(section('Error tags', 'error', r.errors || [], errorTag));
    editor.appendChild(section('Edge cases', 'edge', r.edge_cases || [], edgeCase));
    editor.appendChild(el('p', { 'class': 'error', role: 'alert', id: 'rubric-editor-error', hidden: '' }));
    editor.appendChild(el('p', { 'class': 'actions' }, [el('button', { type: 'button', 'class': 'primary', 'data-act': 'save',
      text: form.querySelector('button[type=submit]').textContent })]));
  }

  // The form as the rubric's JSON form; priorities follow the order shown.
  function read() {
    var rows = function (kind) { return Array.prototype.slice.call(editor.querySelectorAll('[data-list="' + kind + '"] > fieldset')); };
    return {
      name: val(editor, 'name'), guidelines: val(editor, 'guidelines'),
      criteria: rows('criterion').map(function (f, i) {
        var labels = {};
        val(f, 'scale_labels').split('\n').forEach(function (line) {
          var at = line.indexOf('=');
          if (at > 0) labels[line.slice(0, at).trim()] = line.slice(at + 1).trim();
        });
        return { key: val(f, 'key').trim(), title: val(f, 'title'), priority: i + 1, hard: val(f, 'hard'),
          description: val(f, 'description'), scale: { min: Number(val(f, 'min')), max: Number(val(f, 'max')) }, scale_labels: labels };
      }),
      errors: rows('error').map(function (f) {
        return { key: val(f, 'key').trim(), criterion: val(f, 'criterion').trim(), severity: val(f, 'severity'), description: val(f, 'description') };
      }),
      edge_cases: rows('edge').map(function (f) { return { key: val(f, 'key').trim(), description: val(f, 'description') }; })
    };
  }

  function convert(body) { return PL.call('POST', '/api/v1/rubrics/convert', body); }
  function select(showForm) {
    tabForm.setAttribute('aria-selected', String(showForm)); tabToml.setAttribute('aria-selected', String(!showForm));
    tabForm.tabIndex = showForm ? 0 : -1; tabToml.tabIndex = showForm ? -1 : 0;
    editor.hidden = !showForm; tomlPanel.hidden = showForm;
  }
  // Form to TOML through the server; resolves true when the textarea holds it.
  function toToml(errBox) {
    return convert({ rubric: read() }).then(function (res) {
      if (!res.ok) { PL.show(errBox, PL.message(res)); return false; }
      toml.value = res.body.toml;
      return true;
    });
  }
  tabForm.addEventListener('click', function () {
    if (!editor.hidden) return;
    PL.show(switchErr, '');
    convert({ toml: toml.value }).then(function (res) {
      if (!res.ok) { PL.show(switchErr, 'The TOML does not parse, so the form cannot show it: ' + PL.message(res)); return; }
      draw(res.body.rubric);
      select(true);
    });
  });
  tabToml.addEventListener('click', function () {
    if (editor.hidden) return;
    PL.show(switchErr, '');
    toToml(switchErr).then(function (ok) { if (ok) select(false); });
  });
  [tabToml, tabForm].forEach(function (t) {
    t.addEventListener('keydown', function (e) {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
      var other = t === tabToml ? tabForm : tabToml;
      other.focus(); other.click();
    });
  });
  document.addEventListener('rubric-saved', function (e) {
    var err = document.getElementById('rubric-editor-error');
    if (!err || editor.hidden) return;
    if (e.detail.ok) {
      err.className = 'rule ok'; err.setAttribute('role', 'status');
      PL.show(err, e.detail.message);
      editor.querySelector('[data-act=save]').textContent = form.querySelector('button[type=submit]').textContent;
    } else {
      err.className = 'error'; err.setAttribute('role', 'alert');
      PL.show(err, e.detail.message);
    }
  });
  editor.addEventListener('click', function (e) {
    var b = e.target.closest('button');
    if (!b) return;
    var add = b.getAttribute('data-add');
    if (add) {
      var blank = add === 'criterion' ? { scale: { min: 1, max: 5 } } : {};
      var node = makers[add](blank);
      editor.querySelector('[data-list="' + add + '"]').appendChild(node);
      node.querySelector('input, textarea').focus();
      return;
    }
    var act = b.getAttribute('data-act'), row = b.closest('fieldset');
    if (act === 'up' && row.previousElementSibling) row.parentNode.insertBefore(row, row.previousElementSibling);
    else if (act === 'down' && row.nextElementSibling) row.parentNode.insertBefore(row.nextElementSibling, row);
    else if (act === 'remove') row.parentNode.removeChild(row);
    else if (act === 'save') {
      var err = document.getElementById('rubric-editor-error');
      err.className = 'error'; err.setAttribute('role', 'alert');
      PL.show(err, '');
      toToml(err).then(function (ok) {
        if (!ok) return;
        // The TOML form saves it: one path for both tabs; setup.js says how it went.
        form.requestSubmit();
      });
    }
    if (act === 'up' || act === 'down') b.focus();
  });
});
