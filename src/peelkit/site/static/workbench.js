// The live preview: while an inspector edits, the draft (unsaved) is rendered as the report
// will be published and shown beside the form. Without JavaScript, the "Preview" button does
// the same in a new tab. Nothing here saves anything.
(function () {
  "use strict";
  var form = document.getElementById("judgments-form");
  var section = document.getElementById("live-preview");
  var frame = document.getElementById("live-preview-frame");
  var status = document.getElementById("live-preview-status");
  var button = document.getElementById("preview-button");
  if (!form || !section || !frame || !button || !window.fetch) { return; }
  var url = button.getAttribute("formaction");
  var timer = null;
  var asked = 0;
  function refresh() {
    var mine = ++asked;
    status.textContent = "Updating the preview…";
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (answer) {
      if (mine !== asked) { return; }
      if (answer.ok && answer.data.url) {
        frame.src = answer.data.url + "?t=" + Date.now();
        status.textContent = "The preview shows your unsaved changes.";
      } else {
        var count = 0;
        Object.keys(answer.data.problems || {}).forEach(function (k) { count += answer.data.problems[k].length; });
        status.textContent = "The preview waits until the judgments pass their checks (" + count + " problem(s)); save to see them listed.";
      }
    }).catch(function () {
      if (mine === asked) { status.textContent = "The preview could not be updated."; }
    });
  }
  section.hidden = false;
  form.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 800);
  });
  refresh();
})();
