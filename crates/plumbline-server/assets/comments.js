// Plumbline: item comment threads. Posts a comment through the JSON API and appends it
// with textContent only (the text is untrusted); times show in the reader's zone.
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('section.thread').forEach(function (thread) {
    var form = thread.querySelector('form.comment-form');
    if (!form) return;
    var url = '/api/v1/projects/' + encodeURIComponent(thread.getAttribute('data-project')) +
      '/items/' + encodeURIComponent(thread.getAttribute('data-item')) + '/comments';
    var err = form.querySelector('.error');
    var button = form.querySelector('button[type=submit]');
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      PL.show(err, '');
      var text = form.body.value;
      if (!text.trim()) { PL.show(err, 'Write something first.'); form.body.focus(); return; }
      button.disabled = true;
      PL.call('POST', url, { body: text }).then(function (res) {
        button.disabled = false;
        if (!res.ok) { PL.show(err, PL.message(res)); return; }
        var c = res.body;
        var li = document.createElement('li');
        li.className = 'comment';
        var meta = document.createElement('p');
        meta.className = 'meta';
        var who = document.createElement('strong');
        who.textContent = c.author_name;
        var when = document.createElement('time');
        var d = new Date(c.created_at);
        when.setAttribute('datetime', d.toISOString());
        when.textContent = d.toLocaleString();
        meta.appendChild(who);
        meta.appendChild(document.createTextNode(' · '));
        meta.appendChild(when);
        var body = document.createElement('p');
        body.className = 'cbody';
        body.textContent = c.body;
        li.appendChild(meta);
        li.appendChild(body);
        thread.querySelector('ol.comments').appendChild(li);
        var count = thread.querySelector('.count');
        if (count) count.textContent = String(thread.querySelectorAll('li.comment').length);
        var none = thread.querySelector('.none');
        if (none) none.hidden = true;
        form.body.value = '';
      }, function () {
        button.disabled = false;
        PL.show(err, 'The server could not be reached; try again.');
      });
    });
  });
});
