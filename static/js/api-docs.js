// The API reference: Swagger UI renders the OpenAPI document served at data-spec-url.
(function () {
  "use strict";
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
