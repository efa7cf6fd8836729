// Submitting the filters again when the sort changes saves a click; the
// "Afficher" button does the same without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  ["tri", "ordre"].forEach(function (id) {
    var el = document.getElementById(id);
    if (el && el.form) {
      el.addEventListener("change", function () { el.form.requestSubmit(); });
    }
  });
});
