"""The licence-display badge (亮照亮标) as a small SVG drawn here: the shop, its grade, "已验证", and a link to
the verification page that carries a fresh signature. Pure: text in, SVG text out; every text is escaped.

A shop embeds ``/shops/{platform}/{shop}/badge.svg`` (as ``<object>`` the link inside is clickable; as an
``<img>`` inside the link the shop page offers). Each fetch signs a new link, so a badge shown live is always
current, while a copy saved elsewhere carries an old issue time and turns 已过期 (dated rule
``badge.link_valid_days``) — and shows the genuine shop's name and address on the verification page.
"""

from __future__ import annotations

from html import escape

__all__ = ["badge_svg"]

W, H = 240, 64
_COLOURS = {"open": "#b22222", "suspended": "#8a6d3b", "closed": "#777777"}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def badge_svg(*, shop_name: str, platform_name: str, grade: str | None, shop_status: str, verify_url: str) -> str:
    """The badge: a red seal with 信, the shop name, the grade (or 已实名), and 已验证 while the shop is open."""
    colour = _COLOURS.get(shop_status, _COLOURS["closed"])
    if shop_status == "open":
        state = "已验证"
    elif shop_status == "suspended":
        state = "暂停经营"
    else:
        state = "店铺已关闭"
    grade_text = f"信用等级 {grade}" if grade else "经营者已实名登记"
    title = f"{shop_name}（{platform_name}）亮照亮标：{state}，{grade_text}。点击核验"
    url = escape(verify_url, quote=True)
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        'font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<a href="{url}" xlink:href="{url}" target="_blank">',
        f'<rect x="0.5" y="0.5" width="{W - 1}" height="{H - 1}" rx="6" fill="#fff" stroke="{colour}"/>',
        f'<circle cx="32" cy="32" r="22" fill="{colour}"/>',
        '<text x="32" y="40" text-anchor="middle" font-size="22" fill="#fff" font-weight="bold">信</text>',
        f'<text x="62" y="20" font-size="12" fill="#333">{escape(_clip(shop_name, 12))}</text>',
        f'<text x="62" y="38" font-size="12" fill="{colour}" font-weight="bold">{escape(grade_text)} · {escape(state)}</text>',
        '<text x="62" y="55" font-size="10" fill="#666">常州公共信用平台 · 点击核验</text>',
        "</a></svg>",
    ])
