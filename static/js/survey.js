// Autosave for the survey pages. Without this script every page is a plain
// form whose "next" button saves it; with it, each choice is saved at once.
// Choices not yet confirmed by the server are kept in localStorage, so a
// reload, a lost connection or a server restart loses nothing: they are
// re-applied to the page and sent again, with backoff, until stored.
(function () {
  'use strict';
  var form = document.querySelector('form[data-autosave]');
  if (!form || !window.fetch) return;
  var url = form.getAttribute('data-autosave');
  var csrf = form.getAttribute('data-csrf');
  var status = form.querySelector('.save-status');
  var storeKey = 'tiltline.pending:' + url;
  var pending = load();
  var inflight = false;
  var delay = 1000;
  var timer = null;

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function persist() {
    try {
      if (Object.keys(pending).length) localStorage.setItem(storeKey, JSON.stringify(pending));
      else localStorage.removeItem(storeKey);
    } catch (e) { /* private mode: memory only */ }
  }
  function say(kind) {
    if (!status) return;
    status.textContent = status.getAttribute('data-' + kind) || '';
    status.className = 'save-status ' + kind;
  }
  function inputFor(name, value) {
    var inputs = form.querySelectorAll('input[type=radio]');
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].name === name && inputs[i].value === value) return inputs[i];
    }
    return null;
  }

  // Answers the server has not confirmed yet win over what the page shows.
  Object.keys(pending).forEach(function (name) {
    var input = inputFor(name, pending[name]);
    if (input) input.checked = true;
  });

  form.addEventListener('change', function (e) {
    var t = e.target;
    if (t.type !== 'radio' || t.name.indexOf('.') < 0) return;
    pending[t.name] = t.value;
    persist();
    flush();
    showChosen(t.closest('fieldset'));
    var card = t.closest('article');
    if (card && card.querySelectorAll('input[type=radio]:checked').length === 2) card.classList.add('folded');
  });

  // Under each row, the chosen level's title and text, as the level key
  // on the page words them (screen readers get them from aria-describedby).
  function showChosen(fs) {
    if (!fs) return;
    var c = fs.querySelector('input[type=radio]:checked');
    var p = fs.querySelector('.chosen');
    if (!c) { if (p) p.remove(); return; }
    if (!p) {
      p = document.createElement('p');
      p.className = 'chosen';
      p.setAttribute('aria-hidden', 'true');
      fs.appendChild(p);
    }
    var title = document.getElementById('lvt-' + fs.getAttribute('data-dimension') + '-' + c.value);
    var text = document.getElementById('lvl-' + fs.getAttribute('data-dimension') + '-' + c.value);
    p.textContent = '';
    var b = document.createElement('b');
    b.textContent = title ? title.textContent : c.parentNode.textContent;
    p.appendChild(b);
    if (text) p.appendChild(document.createTextNode(' — ' + text.textContent));
  }
  Array.prototype.forEach.call(form.querySelectorAll('fieldset.dimension'), showChosen);
  Array.prototype.forEach.call(form.querySelectorAll('article.practice'), function (a) {
    if (a.querySelectorAll('input[type=radio]:checked').length === 2) a.classList.add('folded');
  });

  // The "levels" link in the sticky bar opens the key it points to.
  var keylink = document.querySelector('.keylink');
  var key = document.getElementById('levels');
  if (keylink && key) keylink.addEventListener('click', function () { key.open = true; });

  function flush() {
    if (inflight) return;
    var names = Object.keys(pending);
    if (!names.length) return;
    var sent = {};
    var body = names.map(function (name) {
      var dot = name.lastIndexOf('.');
      var v = pending[name];
      sent[name] = v;
      return { practice: name.slice(0, dot), dimension: name.slice(dot + 1), level: v === 'dk' ? 'dk' : Number(v) };
    });
    inflight = true;
    say('saving');
    fetch(url, {
      method: 'PUT',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body)
    }).then(function (res) {
      inflight = false;
      if (res.status === 204) {
        names.forEach(function (n) { if (pending[n] === sent[n]) delete pending[n]; });
        persist();
        delay = 1000;
        if (Object.keys(pending).length) flush(); else say('saved');
        return;
      }
      if (res.status >= 500 || res.status === 429) throw new Error('retry');
      // 4xx: the survey was submitted or closed elsewhere, or the page is stale.
      say('failed');
    }).catch(function () {
      inflight = false;
      say('offline');
      clearTimeout(timer);
      timer = setTimeout(flush, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }

  window.addEventListener('online', function () { delay = 1000; flush(); });
  flush();
})();
