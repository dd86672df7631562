"""The web app: hypermedia pages rendered from Jinja2 templates with named blocks."""
