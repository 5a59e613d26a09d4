"""Server-side SVG charts for the dashboard: no JavaScript, no network, no library.

Every label goes through ``format_html`` (group names are user-supplied). Colours come
from Wagtail's CSS custom properties, so the charts follow the admin's light and dark
themes.
"""

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

WIDTH = 720
HEIGHT = 240
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 40, 16, 16, 40

BAR_COLOUR = "var(--w-color-secondary-100, #00b0b1)"
LINE_COLOUR = "var(--w-color-primary, #2e1f5e)"
GRID_COLOUR = "var(--w-color-border-furniture, #e0e0e0)"
TEXT_COLOUR = "currentColor"
MISSING_COLOUR = "var(--w-color-critical-200, #cd4444)"


def _r(number):
    return round(number, 1)


def _nice_max(value, ticks=4):
    """The top of a y axis at or above ``value`` whose ``ticks`` steps are round numbers
    (1, 2 or 5 times a power of ten, at least 1)."""
    raw = max(value, 1) / ticks
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= raw:
            return step * magnitude * ticks
    return 10 * magnitude * ticks


def activity_chart(logins, sessions):
    """Logins per day (bars) and active sessions at the end of each day (line).

    ``logins`` and ``sessions`` are ``[(date, count), ...]`` over the same days."""
    days = len(logins)
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = _nice_max(max([count for _, count in logins + sessions] or [1]))
    slot = plot_width / max(days, 1)

    def y(count):
        return MARGIN_TOP + plot_height - plot_height * count / top

    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1"/>'
        '<text x="{}" y="{}" text-anchor="end" font-size="12" fill="{}">{}</text>',
        (
            (
                MARGIN_LEFT,
                WIDTH - MARGIN_RIGHT,
                _r(y(top * step / 4)),
                _r(y(top * step / 4)),
                GRID_COLOUR,
                MARGIN_LEFT - 6,
                _r(y(top * step / 4) + 4),
                TEXT_COLOUR,
                int(top * step / 4),
            )
            for step in range(5)
        ),
    )
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
        (
            (
                _r(MARGIN_LEFT + index * slot + slot * 0.15),
                _r(y(count)),
                _r(slot * 0.7),
                _r(MARGIN_TOP + plot_height - y(count)),
                BAR_COLOUR,
                date_format(day, "SHORT_DATE_FORMAT"),
                _("%(count)s logins") % {"count": count},
            )
            for index, (day, count) in enumerate(logins)
        ),
    )
    points = " ".join(
        f"{MARGIN_LEFT + index * slot + slot / 2:.1f},{y(count):.1f}"
        for index, (_day, count) in enumerate(sessions)
    )
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2.5" fill="{}"><title>{}: {}</title></circle>',
        (
            (
                _r(MARGIN_LEFT + index * slot + slot / 2),
                _r(y(count)),
                LINE_COLOUR,
                date_format(day, "SHORT_DATE_FORMAT"),
                _("%(count)s active sessions") % {"count": count},
            )
            for index, (day, count) in enumerate(sessions)
        ),
    )
    # A date label every week, and on the last day.
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="{}">{}</text>',
        (
            (
                _r(MARGIN_LEFT + index * slot + slot / 2),
                HEIGHT - MARGIN_BOTTOM + 16,
                TEXT_COLOUR,
                date_format(day, "M j"),
            )
            for index, (day, _count) in enumerate(logins)
            if (days - 1 - index) % 7 == 0
        ),
    )
    legend = format_html(
        '<rect x="{}" y="{}" width="12" height="12" fill="{}"/>'
        '<text x="{}" y="{}" font-size="12" fill="{}">{}</text>'
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2"/>'
        '<text x="{}" y="{}" font-size="12" fill="{}">{}</text>',
        MARGIN_LEFT,
        HEIGHT - 14,
        BAR_COLOUR,
        MARGIN_LEFT + 18,
        HEIGHT - 4,
        TEXT_COLOUR,
        _("Logins per day"),
        MARGIN_LEFT + 160,
        MARGIN_LEFT + 180,
        HEIGHT - 8,
        HEIGHT - 8,
        LINE_COLOUR,
        MARGIN_LEFT + 186,
        HEIGHT - 4,
        TEXT_COLOUR,
        _("Active sessions at the end of the day"),
    )
    return format_html(
        '<svg class="w2fa-chart" role="img" aria-labelledby="w2fa-activity-title" '
        'viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="w2fa-activity-title">{}</title>{}{}'
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        _("Logins per day and active sessions, last %(days)s days") % {"days": days},
        grid,
        bars,
        points,
        LINE_COLOUR,
        dots,
        labels,
        legend,
    )


def adoption_chart(rows):
    """Horizontal bars: the share of each role's active accounts with 2FA.

    ``rows`` is ``[(label, with_2fa, total), ...]``."""
    if not rows:
        return mark_safe("")
    row_height, label_width, bar_width = 28, 180, 420
    height = row_height * len(rows) + 8
    body = format_html_join(
        "",
        '<g transform="translate(0,{})">'
        '<text x="{}" y="17" text-anchor="end" font-size="12" fill="{}">{}</text>'
        '<rect x="{}" y="4" width="{}" height="18" fill="{}" opacity="0.35"/>'
        '<rect x="{}" y="4" width="{}" height="18" fill="{}"/>'
        '<text x="{}" y="17" font-size="12" fill="{}">{}</text>'
        "<title>{}: {}</title></g>",
        (
            (
                index * row_height,
                label_width - 8,
                TEXT_COLOUR,
                label if len(label) <= 24 else label[:23] + "…",
                label_width,
                bar_width,
                MISSING_COLOUR,
                label_width,
                _r(bar_width * with_2fa / total if total else 0),
                BAR_COLOUR,
                label_width + bar_width + 8,
                TEXT_COLOUR,
                f"{with_2fa}/{total} ({round(100 * with_2fa / total) if total else 0}%)",
                label,
                _("%(with)s of %(total)s active accounts use 2FA")
                % {"with": with_2fa, "total": total},
            )
            for index, (label, with_2fa, total) in enumerate(rows)
        ),
    )
    return format_html(
        '<svg class="w2fa-chart" role="img" aria-labelledby="w2fa-adoption-title" '
        'viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="w2fa-adoption-title">{}</title>{}</svg>',
        label_width + bar_width + 110,
        height,
        _("2FA adoption by role"),
        body,
    )
