"""HTTP: the JSON API, health and metrics, the page's static files, and the server itself."""
