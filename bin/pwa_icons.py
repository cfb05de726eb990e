"""Rasterise rak_portal/static/rak_portal/logo.svg into the web app's PNG icons (manifest, apple-touch-icon).

Run again when the logo changes: `.venv/bin/python bin/pwa_icons.py` (Debian's Chromium through Playwright);
commit the PNGs it writes beside the logo.
"""

import re
from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "addons/rak_portal/static/rak_portal"
logo = (STATIC / "logo.svg").read_text()
inner = re.search(r"<svg[^>]*>(.*)</svg>", logo, re.S).group(1)
drawing = re.sub(r"<rect[^>]*/>", "", inner)  # the drop and the bolt, without the rounded square


def full_bleed(scale: float) -> str:
    """A square in the logo's blue, the drawing scaled around the centre (maskable safe zone)."""
    offset = 32 * (1 - scale)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#0b5fa5"/>'
        f'<g transform="translate({offset} {offset}) scale({scale})">{drawing}</g></svg>'
    )


ICONS = {
    "icon-192.png": (192, logo),
    "icon-512.png": (512, logo),
    "icon-maskable-512.png": (512, full_bleed(0.72)),
    "icon-maskable-192.png": (192, full_bleed(0.72)),
    "apple-touch-icon.png": (180, full_bleed(0.85)),
}

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
    for name, (size, svg) in ICONS.items():
        page = browser.new_page(viewport={"width": size, "height": size})
        svg = svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
        page.set_content(f"<html><body style='margin:0;background:transparent'>{svg}</body></html>")
        page.screenshot(
            path=str(STATIC / name), omit_background=True, clip={"x": 0, "y": 0, "width": size, "height": size}
        )
        page.close()
        print(name, size)
    browser.close()
