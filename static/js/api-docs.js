// The API reference: Swagger UI renders the OpenAPI document served at data-spec-url.
(function () {
  "use strict";
  // Without a configured public address the examples name this page's own origin, read from
  // the browser's address bar: the server never writes the request's Host header into a page.
  var bases = document.querySelectorAll(".example-base[data-fill-origin]");
  Array.prototype.forEach.call(bases, function (base) { base.textContent = window.location.origin; });
  Array.prototype.forEach.call(document.querySelectorAll(".example-hint"), function (hint) {
    hint.remove();
  });
  var root = document.getElementById("api-reference");
  if (!root || !window.SwaggerUIBundle) { return; }
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    validatorUrl: null  // never send the document to an outside validator
  });
}());
