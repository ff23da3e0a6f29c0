// models.js: the promote and rollback buttons of /ui/models/{ticker}.
// They call the API's authenticated routes with the token typed on the
// page (kept in sessionStorage for the tab, never sent anywhere else),
// show the answer in the role=status element, and reload the page after a
// change. No inline handlers: the Content-Security-Policy forbids them.
"use strict";

(function () {
  const admin = document.getElementById("admin");
  if (!admin) {
    return;
  }
  const ticker = admin.dataset.ticker;
  const tokenField = document.getElementById("admin-token");
  const reasonField = document.getElementById("admin-reason");
  const status = document.getElementById("admin-status");
  const tokenKey = "finsight.apiToken";
  const flashKey = "finsight.modelsFlash";

  tokenField.value = sessionStorage.getItem(tokenKey) || "";
  tokenField.addEventListener("input", function () {
    sessionStorage.setItem(tokenKey, tokenField.value.trim());
  });

  // A message left by the action that reloaded the page.
  const flash = sessionStorage.getItem(flashKey);
  if (flash) {
    sessionStorage.removeItem(flashKey);
    show(flash, "ok");
  }

  function show(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  function buttons() {
    return document.querySelectorAll("button.promote, button.rollback");
  }

  function busy(on) {
    buttons().forEach(function (b) { b.disabled = on; });
  }

  // call POSTs body to /models/<ticker>/<action> and reloads the page on
  // success; done(answer) says what happened.
  async function call(action, body, done) {
    const token = tokenField.value.trim();
    if (!token) {
      show("Type an API token first.", "error");
      tokenField.focus();
      return;
    }
    const reason = reasonField.value.trim();
    if (reason) {
      body.reason = reason;
    }
    busy(true);
    show("Sending…", "");
    let res, answer;
    try {
      res = await fetch("/models/" + encodeURIComponent(ticker) + "/" + action, {
        method: "POST",
        headers: {"Authorization": "Bearer " + token, "Content-Type": "application/json"},
        body: JSON.stringify(body),
        credentials: "omit",
      });
      answer = await res.json().catch(function () { return {}; });
    } catch (err) {
      busy(false);
      show("The API did not answer: " + err.message, "error");
      return;
    }
    if (!res.ok) {
      busy(false);
      show(res.status + " " + res.statusText + ": " + (answer.error || "no error message"), "error");
      return;
    }
    sessionStorage.setItem(flashKey, done(answer));
    location.reload();
  }

  document.querySelectorAll("button.promote").forEach(function (b) {
    b.addEventListener("click", function () {
      const version = parseInt(b.dataset.version, 10);
      call("promote", {version: version}, function (a) {
        if (!a.changed) {
          return "v" + a.champion + " already was champion.";
        }
        return "v" + a.champion + " is champion" + (a.previous ? " (was v" + a.previous + ")." : ".");
      });
    });
  });

  const rollback = document.getElementById("rollback");
  if (rollback) {
    rollback.addEventListener("click", function () {
      call("rollback", {}, function (a) {
        let msg = "Rolled back: v" + a.champion + " is champion again (was v" + a.previous + ").";
        if (a.notification_error) {
          msg += " The rollback's notification was not queued: " + a.notification_error;
        }
        return msg;
      });
    });
  }
})();
