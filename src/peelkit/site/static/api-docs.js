// The API's interactive documentation: Swagger UI on peelkit's own OpenAPI document, loaded
// from a file (the site's Content-Security-Policy allows no inline script).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
  });
});
