// Refreshes the Session Maintenance panel's run status without reloading the page:
// every 2 s while a run is queued or running, every 15 s otherwise.
(function () {
  'use strict';

  function watch(panel) {
    if (panel.dataset.w2faWatching) return;
    panel.dataset.w2faWatching = '1';
    var url = panel.dataset.statusUrl;
    var target = panel.querySelector('[data-w2fa-maintenance-runs]');
    var busy = panel.hasAttribute('data-any-open');

    function schedule() {
      window.setTimeout(poll, busy ? 2000 : 15000);
    }

    function poll() {
      if (document.hidden) return schedule();
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (data) {
          // Server-rendered by Django's autoescaping templates.
          target.innerHTML = data.html;
          busy = data.any_open;
          panel.toggleAttribute('data-any-open', busy);
        })
        .catch(function () {
          busy = false;
        })
        .then(schedule);
    }

    schedule();
  }

  function start() {
    document.querySelectorAll('[data-w2fa-maintenance]').forEach(watch);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
