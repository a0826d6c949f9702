// Plumbline: a lead's and an administrator's workspace: the New project form, the
// users page (invitations with their one-time links) and the invitation page.
'use strict';
(function () {
  // Shows `text` in the error paragraph `id`, marking `input` invalid; clears with ''.
  function fieldError(id, input, text) {
    PL.show(document.getElementById(id), text);
    if (!input) return;
    if (text) { input.setAttribute('aria-invalid', 'true'); input.focus(); } else { input.removeAttribute('aria-invalid'); }
  }

  function initNewProject() {
    var form = document.getElementById('new-project-form');
    if (!form) return;
    form.template.addEventListener('change', function () {
      var tpl = document.getElementById('rubric-' + form.template.value);
      if (tpl) form.rubric.value = tpl.content.textContent;
    });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      fieldError('np-name-error', form.name, '');
      fieldError('np-task-error', form.task, '');
      fieldError('np-rubric-error', form.rubric, '');
      var name = form.name.value.trim();
      if (!name) { fieldError('np-name-error', form.name, 'Give the project a name.'); return; }
      PL.call('POST', '/api/v1/projects', { name: name, settings: { task: form.task.value }, rubric: form.rubric.value })
        .then(function (res) {
          if (res.ok) { location.href = '/projects/' + encodeURIComponent(name) + '/setup'; return; }
          var msg = PL.message(res);
          // The API prefixes a rubric's or a setting's refusal; anything else is the name.
          if (/^rubric/.test(msg)) fieldError('np-rubric-error', form.rubric, msg);
          else if (/^settings/.test(msg)) fieldError('np-task-error', form.task, msg);
          else fieldError('np-name-error', form.name, msg);
        });
    });
  }

  function initUsers() {
    var form = document.getElementById('invite-form');
    if (!form) return;
    var err = document.getElementById('invite-error');
    var result = document.getElementById('invite-result');
    var link = document.getElementById('invite-link');
    var shown = function (res, what) {
      if (!res.ok) { PL.show(err, PL.message(res)); return false; }
      link.value = res.body.link || (location.origin + res.body.path);
      PL.show(document.getElementById('invite-done'), what + ' ' + res.body.user.name +
        '. The link works once and expires ' + new Date(res.body.expires_at).toLocaleString() + '.');
      result.hidden = false;
      link.focus();
      link.select();
      return true;
    };
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      PL.show(err, '');
      result.hidden = true;
      var body = { name: form.name.value.trim(), admin: form.admin.checked };
      if (form.project.value) { body.project = form.project.value; body.role = form.role.value; }
      PL.call('POST', '/api/v1/users/invitations', body).then(function (res) {
        if (shown(res, 'Invited')) form.reset();
      });
    });
    document.querySelectorAll('button[data-reissue]').forEach(function (b) {
      b.addEventListener('click', function () {
        var name = b.getAttribute('data-reissue');
        if (!window.confirm('Issue a new link for ' + name + '? Any earlier link of theirs stops working.')) return;
        PL.show(err, '');
        PL.call('POST', '/api/v1/users/' + encodeURIComponent(name) + '/invitations').then(function (res) {
          shown(res, 'New link for');
        });
      });
    });
    document.getElementById('invite-copy').addEventListener('click', function () {
      link.select();
      if (navigator.clipboard) navigator.clipboard.writeText(link.value);
    });
  }

  function initAccept() {
    var form = document.getElementById('invite-accept');
    if (!form) return;
    var err = document.getElementById('accept-error');
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      PL.show(err, '');
      if (form.password.value !== form.again.value) {
        PL.show(err, 'The two passwords differ.');
        form.again.focus();
        return;
      }
      // No session yet, so no CSRF token: a plain JSON post, like a login.
      fetch('/api/v1/invitations/accept', {
        method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: form.getAttribute('data-token'), password: form.password.value })
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.ok) { location.href = '/projects'; return; }
          PL.show(err, (j.error && j.error.message) || 'The server answered ' + r.status + '.');
        });
      }).catch(function () { PL.show(err, 'The server cannot be reached.'); });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    initNewProject();
    initUsers();
    initAccept();
  });
})();
