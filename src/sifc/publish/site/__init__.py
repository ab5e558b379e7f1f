"""`sifc site`: a static, bilingual website generated from the package.

    from sifc.publish.site import build_site
    build_site(out="build/site")

Pages are rendered with Jinja2 (autoescape on) from the templates in
`templates/`; `static/` holds the stylesheet and the small hand-written
script that sorts and filters tables. Nothing is fetched: no CDN, no font
service, no external request (a Content-Security-Policy says so to the
browser too), so the site works offline and from GitHub Pages.

Jinja2 comes with the `site` extra: pip install 'shanghai-ifc[site]'.
"""
from .build import build_site

__all__ = ["build_site"]
