"""The 市町村カルテ on one printable page: a single A4-landscape PowerPoint slide (prints on one
sheet from PowerPoint or LibreOffice) with the municipality's name, type, population band,
the stage × field scores (or, without an assessment, its デジタル庁 indicators against its peers),
maturity, support priority and recommended support, the commentary and the gap table.
"""

from __future__ import annotations

import re
from pathlib import Path

from pptx.util import Inches, Mm

from exports.images import figure_png
from exports.pptx_deck import (
    ACCENT,
    MARGIN,
    MUTED,
    add_footer,
    add_picture,
    add_table,
    add_text,
    new_presentation,
    table_layout,
)
from metrics.assessment import round_labels, rounds
from metrics.cases import recommendation_table
from metrics.filters import Filter, select_municipalities
from metrics.priority import support_priority
from metrics.views import national_summary
from views import style
from views.render import render_view

A4_WIDTH, A4_HEIGHT = Mm(297), Mm(210)


def build_karte(con, code: str, out_path: str | Path, *, theme: str = "print") -> Path:
    """Write the one-page カルテ of municipality ``code`` to ``out_path`` (.pptx)."""
    result = render_view(con, {"view": "karte", "code": code}, None, theme=theme)
    code = str(code).strip().zfill(6)
    place = select_municipalities(con, Filter(codes=(code,))).iloc[0]
    summary = national_summary(con).set_index("code").loc[code]
    presentation = new_presentation(A4_WIDTH, A4_HEIGHT)
    slide = presentation.slides.add_slide(presentation.slide_layouts[6])
    width = A4_WIDTH - 2 * MARGIN

    add_text(
        slide,
        MARGIN,
        Inches(0.25),
        width,
        Inches(0.55),
        f"市町村カルテ　{place['name']}（{place['pref_name']}）",
        24,
        bold=True,
        colour=ACCENT,
    )
    population = style.format_number(place["population"])
    add_text(
        slide,
        MARGIN,
        Inches(0.8),
        width,
        Inches(0.35),
        f"{place['type']}・人口 {population}人（人口規模 {place['pop_band'] or '不明'}）・団体コード {code}",
        12,
        colour=MUTED,
    )

    facts = [
        f"総合得点（デジタル庁指標）：{style.format_value(summary['composite'], 'score', '点')}",
        f"アセスメント総合得点：{style.format_value(summary.get('assessment'), 'score', '点')}",
        "成熟度："
        f"{summary['maturity_label'] if isinstance(summary.get('maturity_label'), str) else style.MISSING_LABEL}",
        f"支援優先度：{summary['priority'] if isinstance(summary.get('priority'), str) else style.MISSING_LABEL}",
    ]
    # the menu in force for this municipality: the national one and its own prefecture's
    priority = support_priority(con, Filter(pref_code=code[:2], codes=(code,)))
    if len(priority) and priority["basis_label"].iloc[0]:
        facts[3] += f"（{priority['basis_label'].iloc[0]}）"
    recommended = recommendation_table(priority.assign(population=place["population"])) if len(priority) else None
    if recommended is None or recommended.empty:
        facts.append("推奨する支援：なし")
    else:
        # one line per item: its name and the weakness it closes, in short (the screen and Excel keep the full reason)
        facts.append("推奨する支援（最大3件）と主な理由：")
        facts += [f"{rec.rank}. {rec.item}（{_short_reason(rec.reason)}）" for rec in recommended.itertuples()]

    top = Inches(1.25)
    picture_width, picture_height = Inches(5.6), Inches(2.85)
    if result.figure is not None:
        # drawn on a canvas 1.6× the frame and shrunk onto it: the page charts are laid out for a
        # screen column, and a half-page frame at 100 px/inch would crowd their labels
        png = figure_png(
            result.figure,
            width=round(picture_width / 914400 * 160),
            height=round(picture_height / 914400 * 160),
            scale=1,
        )
        add_picture(slide, png, MARGIN, top, picture_width, picture_height)
    right = MARGIN + picture_width + Inches(0.2)
    add_text(slide, right, top, A4_WIDTH - right - MARGIN, Inches(1.7), facts, 10)
    add_text(
        slide, right, top + Inches(1.75), A4_WIDTH - right - MARGIN, Inches(1.6), result.commentary, 11, bullet=True
    )

    if result.table is not None and len(result.table):
        table_top = top + picture_height + Inches(0.15)
        layout = table_layout(result.table, width, A4_HEIGHT - table_top - Inches(0.75), size=8)
        add_table(slide, result.table, MARGIN, table_top, layout, size=8)
        rest = len(result.table) - layout.rows
        if rest:
            add_text(
                slide,
                MARGIN,
                table_top + sum(layout.heights),
                width,
                Inches(0.25),
                f"ほか{rest}指標は市町村カルテの画面とExcelの書き出しにあります。",
                8,
                colour=MUTED,
            )
    known = rounds(con)
    newest = round_labels(con)[known["round_id"].iloc[-1]] if len(known) else None
    as_of = result.as_of + (f"（調査回 {newest}）" if newest and "調査回" not in result.as_of else "")
    add_footer(slide, result.source, as_of, 1, 1, A4_WIDTH, A4_HEIGHT)
    out_path = Path(out_path)
    presentation.save(out_path)
    return out_path


def _short_reason(reason: str) -> str:
    """「CIO任命」が未実施（…） → CIO任命が未実施; STEP1（全体方針の決定）が5/30点（…） → STEP1が5/30点."""
    text = re.sub(r"（[^（）]*）", "", str(reason)).replace("「", "").replace("」", "")
    return text[:24] + ("…" if len(text) > 24 else "")
