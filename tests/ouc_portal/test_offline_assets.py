"""The portal must work on a closed network: no page loads a script, style, font or image from
another host."""

import re

import pytest

ASSET = re.compile(r"""<(?:script|img|iframe|source)[^>]*\ssrc=["']([^"']+)|<link[^>]*\shref=["']([^"']+)""", re.I)
CSS_URL = re.compile(r"url\(\s*['\"]?(https?:)?//", re.I)

PAGES = ["/", "/schools/", "/associations/", "/centres/", "/accounts/login/", "/accounts/signup/", "/api/docs/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_pages_load_every_asset_from_this_site(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    external = [a or b for a, b in ASSET.findall(html) if (a or b).startswith(("http:", "https:", "//"))]
    assert external == [], f"{path} loads {external}"


def test_the_stylesheet_imports_nothing_from_elsewhere():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "portal.css").read_text()
    assert "@import" not in css
    assert not CSS_URL.search(css)
