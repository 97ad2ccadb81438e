"""The local review web app (Starlette + Jinja2 + a little plain JavaScript, no CDN)."""
