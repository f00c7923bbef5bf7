/* The password reset page: the single-use token comes in the link's fragment (#token=...),
 * which the browser never sends to a server; it is checked, then posted with the new
 * password to ./reset. The server decides everything (rules, single use, expiry). */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var token = (location.hash.match(/token=([A-Za-z0-9_-]+)/) || [])[1] || "";
  history.replaceState(null, "", location.pathname); // keep the token out of history

  function post(body) {
    return fetch("reset", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) {
        if (!r.ok) throw new Error(d.error || "Something went wrong. Please try again.");
        return d;
      });
    });
  }
  function finish(title, text) {
    $("reset-form").hidden = true;
    $("done-title").textContent = title;
    $("done-text").textContent = text;
    $("reset-done").hidden = false;
  }

  post({ token: token }).then(function (d) {
    $("hello").textContent = "Hi " + d.first_name + ", choose a new password for your account.";
    $("reset-form").hidden = false;
    $("password").focus();
  }).catch(function (e) { finish("This link doesn't work", e.message); });

  $("reset-form").addEventListener("submit", function (e) {
    e.preventDefault();
    $("reset-error").textContent = "";
    post({ token: token, password: $("password").value, confirm: $("confirm").value })
      .then(function (d) { finish("Password changed", d.message); })
      .catch(function (err) { $("reset-error").textContent = err.message; });
  });
})();
