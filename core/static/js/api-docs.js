// /api/docs: Swagger UI over the API's OpenAPI document, whose address the page names.
(() => {
  const root = document.getElementById("api-docs");
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    // "Try it out" calls with the browser's session, which reads; writing from here needs a
    // token given to "Authorize" (a session write needs the CSRF token of one of alma's pages).
  });
})();
