// Plumbline: the call-audio player (rendered by ui::player::media_player). Mounts every
// [data-player] on the page, also those a script inserts later (the judging page swaps
// tasks), and stops one whose element leaves the page. Draws the waveform from the peaks
// computed at import (none for Opus: the player works without), places the marks of
// unsure turns and silenced ranges, and ties the player to its transcript: a timed turn
// plays from its start when clicked, and the turn being played is highlighted,
// aria-current and kept in view inside the transcript's box. Keys (Alt+K, Alt+arrows)
// act on the player last used, or the first one; never while typing.
'use strict';
(function () {
  var STEP = 5, SPEED_KEY = 'plumbline:speed';
  var players = [], active = null;

  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function clock(t) {
    if (!isFinite(t) || t < 0) t = 0;
    var m = Math.floor(t / 60);
    return m + ':' + ('0' + (t - m * 60).toFixed(1)).slice(-4);
  }
  function endOf(el) { return el.hasAttribute('data-end') ? +el.getAttribute('data-end') : Infinity; }

  function mount(root) {
    var audio = root.querySelector('audio'), wave = root.querySelector('.wave');
    var canvas = root.querySelector('canvas'), cursor = root.querySelector('.cursor');
    var played = root.querySelector('.played'), playBtn = root.querySelector('[data-act=play]');
    var now = root.querySelector('[data-now]'), total = root.querySelector('[data-total]');
    var speed = root.querySelector('[data-speed]'), msg = root.querySelector('[data-msg]');
    var convo = document.getElementById(root.getAttribute('data-convo'));
    var turns = convo ? $$('li[data-start]', convo) : [];
    var peaks = null, current = null, frame = 0, dead = false;
    var p = { root: root };

    function duration() {
      var d = +root.getAttribute('data-duration');
      return d > 0 ? d : (isFinite(audio.duration) ? audio.duration : 0);
    }
    function say(text) { msg.textContent = text || ''; }
    function pct(t) { var d = duration(); return d ? Math.max(0, Math.min(100, t / d * 100)) : 0; }

    function draw() {
      var w = canvas.clientWidth, h = canvas.clientHeight, dpr = window.devicePixelRatio || 1;
      if (!w || !h) return;
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
      var g = canvas.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      g.fillStyle = '#5b6573';
      var mid = h / 2;
      if (!peaks || !peaks.peaks.length) { g.fillRect(0, mid - 0.5, w, 1); return; }
      var pk = peaks.peaks, n = pk.length, perSec = peaks.sample_rate / peaks.frames_per_pair;
      var d = duration() || n / perSec, top = 0.05, i, x;
      for (i = 0; i < n; i++) top = Math.max(top, -pk[i][0], pk[i][1]);
      for (x = 0; x < w; x++) {
        var a = Math.floor(x / w * d * perSec), b = Math.max(a + 1, Math.floor((x + 1) / w * d * perSec));
        var lo = 0, hi = 0;
        for (i = a; i < b && i < n; i++) { lo = Math.min(lo, pk[i][0]); hi = Math.max(hi, pk[i][1]); }
        g.fillRect(x, mid - hi / top * mid, 1, Math.max(1, (hi - lo) / top * mid));
      }
    }
    function layout() {
      $$('.mark', wave).forEach(function (m) {
        var s = +m.getAttribute('data-start'), e = Math.min(endOf(m), duration() || Infinity);
        m.style.left = pct(s) + '%';
        m.style.width = Math.max(0.3, pct(e) - pct(s)) + '%';
      });
      var d = duration();
      if (d) { total.textContent = clock(d); wave.setAttribute('aria-valuemax', d.toFixed(1)); }
      draw();
    }

    // The turn that holds the position (the later one where two overlap).
    function sync() {
      var t = audio.currentTime, hit = null;
      turns.forEach(function (li) {
        if (t + 0.05 >= +li.getAttribute('data-start') && t < endOf(li)) hit = li;
      });
      if (hit === current) return;
      if (current) { current.classList.remove('playing'); current.removeAttribute('aria-current'); }
      current = hit;
      if (!hit) return;
      hit.classList.add('playing');
      hit.setAttribute('aria-current', 'true');
      // Scroll the transcript's box only, never the page.
      var box = convo.getBoundingClientRect(), r = hit.getBoundingClientRect();
      if (convo.clientHeight && (r.top < box.top || r.bottom > box.bottom)) {
        convo.scrollTop += r.top - box.top - Math.max(0, (convo.clientHeight - r.height) / 3);
      }
    }
    function show() {
      var t = audio.currentTime;
      cursor.style.left = pct(t) + '%';
      played.style.width = pct(t) + '%';
      now.textContent = clock(t);
      wave.setAttribute('aria-valuenow', t.toFixed(1));
      wave.setAttribute('aria-valuetext', clock(t) + ' of ' + clock(duration()));
      sync();
    }
    function loop() { show(); frame = audio.paused ? 0 : requestAnimationFrame(loop); }

    function play() {
      active = p;
      var r = audio.play();
      if (r && r.catch) r.catch(function (e) { if (!dead && e.name !== 'AbortError') say('The audio cannot play: ' + e.message); });
    }
    p.toggle = function () { if (audio.paused) play(); else audio.pause(); };
    p.seek = function (t) {
      var d = duration();
      audio.currentTime = Math.max(0, d ? Math.min(t, d) : t);
      show();
    };
    p.seekBy = function (dt) { p.seek(audio.currentTime + dt); };
    // The next turn after the position, or the previous one (the current turn's start
    // is skipped within its first second, as a player's "previous" does).
    p.turn = function (dir) {
      var t = audio.currentTime, starts = turns.map(function (li) { return +li.getAttribute('data-start'); })
        .sort(function (a, b) { return a - b; });
      var to = dir > 0 ? starts.filter(function (s) { return s > t + 0.05; })[0]
        : starts.filter(function (s) { return s < t - 1; }).pop();
      if (to === undefined) to = dir > 0 ? null : 0;
      if (to !== null) p.seek(to);
    };
    p.stop = function () {
      dead = true;
      cancelAnimationFrame(frame);
      window.removeEventListener('resize', onResize);
      audio.pause();
      // Drop the source so no request for the old call stays open.
      audio.removeAttribute('src');
      audio.load();
      if (active === p) active = null;
    };
    function onResize() { requestAnimationFrame(draw); }

    root.querySelector('[data-act=back]').addEventListener('click', function () { active = p; p.seekBy(-STEP); });
    root.querySelector('[data-act=fwd]').addEventListener('click', function () { active = p; p.seekBy(STEP); });
    playBtn.addEventListener('click', p.toggle);
    audio.addEventListener('play', function () { playBtn.textContent = 'Pause'; say(''); if (!frame) loop(); });
    audio.addEventListener('pause', function () { playBtn.textContent = 'Play'; show(); });
    audio.addEventListener('ended', function () { playBtn.textContent = 'Play'; });
    audio.addEventListener('seeked', show);
    audio.addEventListener('timeupdate', show);
    audio.addEventListener('loadedmetadata', layout);
    audio.addEventListener('ratechange', function () { speed.value = String(audio.playbackRate); });
    audio.addEventListener('error', function () {
      if (dead) return;
      say('The audio cannot be loaded' + (audio.error && audio.error.code === 4 ? ' (the lease may have ended, or the format is not playable here).' : '.'));
    });
    speed.addEventListener('change', function () {
      audio.playbackRate = +speed.value;
      try { sessionStorage.setItem(SPEED_KEY, speed.value); } catch (e) { /* the speed still applies to this item */ }
    });
    var kept = null;
    try { kept = sessionStorage.getItem(SPEED_KEY); } catch (e) { kept = null; }
    if (kept && $$('option', speed).some(function (o) { return o.value === kept; })) {
      speed.value = kept;
      audio.defaultPlaybackRate = audio.playbackRate = +kept;
    }

    // The waveform: click or drag to seek; as a slider, the arrow keys, Home and End.
    function atPointer(e) {
      var r = wave.getBoundingClientRect();
      p.seek((e.clientX - r.left) / r.width * duration());
    }
    wave.addEventListener('pointerdown', function (e) {
      active = p;
      if (!duration()) return;
      wave.setPointerCapture(e.pointerId);
      atPointer(e);
    });
    wave.addEventListener('pointermove', function (e) { if (wave.hasPointerCapture(e.pointerId)) atPointer(e); });
    wave.addEventListener('keydown', function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      var k = e.key;
      if (k === 'ArrowLeft' || k === 'ArrowDown') p.seekBy(-STEP);
      else if (k === 'ArrowRight' || k === 'ArrowUp') p.seekBy(STEP);
      else if (k === 'Home') p.seek(0);
      else if (k === 'End') p.seek(duration());
      else if (k === ' ') p.toggle();
      else return;
      // The page's own keys (a judging page's row cursor) do not also move.
      e.preventDefault();
      e.stopPropagation();
      active = p;
    });
    root.addEventListener('focusin', function () { active = p; });

    // The transcript: a click on a timed turn (not a text selection) plays from its start.
    if (convo) {
      convo.addEventListener('click', function (e) {
        var li = e.target.closest && e.target.closest('li[data-start]');
        if (!li || !convo.contains(li)) return;
        var sel = window.getSelection && window.getSelection();
        if (sel && !sel.isCollapsed && !e.target.closest('[data-seek]')) return;
        p.seek(+li.getAttribute('data-start'));
        play();
      });
    }

    window.addEventListener('resize', onResize);
    layout();
    show();
    fetch(root.getAttribute('data-peaks'), { credentials: 'same-origin' }).then(function (r) {
      if (r.ok) return r.json().then(function (j) { peaks = j; draw(); });
      if (r.status === 404) {
        root.querySelector('[data-wave-note]').textContent =
          'No waveform for this audio (Opus audio has none); click the bar or use the arrow keys to seek. ';
      }
    }).catch(function () { /* the player works without its waveform */ });
    return p;
  }

  function scan() {
    players = players.filter(function (p) {
      if (p.root.isConnected) return true;
      p.stop();
      return false;
    });
    $$('[data-player]').forEach(function (root) {
      if (root.plMounted) return;
      root.plMounted = true;
      players.push(mount(root));
    });
  }
  function target() {
    if (active && active.root.isConnected) return active;
    return players.filter(function (p) { return p.root.isConnected && p.root.offsetParent; })[0] || null;
  }

  document.addEventListener('keydown', function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    if (PL.typing(e) || document.querySelector('dialog[open]')) return;
    var p = target();
    if (!p) return;
    // By physical key: Alt changes the character on some layouts (macOS).
    var c = e.code;
    if (c === 'KeyK') p.toggle();
    else if (c === 'ArrowLeft') p.seekBy(-STEP);
    else if (c === 'ArrowRight') p.seekBy(STEP);
    else if (c === 'ArrowUp') p.turn(-1);
    else if (c === 'ArrowDown') p.turn(1);
    else return;
    // Alt+arrows would otherwise go back or forward in the browser's history.
    e.preventDefault();
  });
  document.addEventListener('DOMContentLoaded', function () {
    scan();
    new MutationObserver(function (records) {
      var touched = records.some(function (r) {
        return [r.addedNodes, r.removedNodes].some(function (list) {
          return Array.prototype.some.call(list, function (n) {
            return n.nodeType === 1 && (n.hasAttribute('data-player') || n.querySelector('[data-player]'));
          });
        });
      });
      if (touched) scan();
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
