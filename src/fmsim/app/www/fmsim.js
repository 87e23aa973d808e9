// fmsim web app: draws the server's Plotly figures and shows each field's message beside it.
(function () {
  function whenReady(register) {
    if (window.Shiny && Shiny.addCustomMessageHandler) { register(); }
    else { document.addEventListener("DOMContentLoaded", register); }
  }
  whenReady(function () {
    // {id, figure (Plotly JSON text), config}: draw or update the figure in place
    Shiny.addCustomMessageHandler("fmsim-plot", function (message) {
      var element = document.getElementById(message.id);
      if (!element) { return; }
      var figure = JSON.parse(message.figure);
      Plotly.react(element, figure.data, figure.layout, message.config).then(function () {
        element.dataset.revision = String(Number(element.dataset.revision || "0") + 1);
      });
    });
    // {page, messages: {input id: text}}: every field of the page shows its message or none
    Shiny.addCustomMessageHandler("fmsim-fields", function (message) {
      document.querySelectorAll('.fmsim-field-error[data-page="' + message.page + '"]')
        .forEach(function (element) {
          var text = message.messages[element.dataset.for] || "";
          element.textContent = text;
          element.style.display = text ? "block" : "none";
          var input = document.getElementById(element.dataset.for);
          if (input) { input.classList.toggle("is-invalid", Boolean(text)); }
        });
    });
  });
})();
