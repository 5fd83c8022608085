"""The committee deck as PowerPoint (python-pptx): a 16:9 title slide, one slide per saved view
(title, the chart as a PNG picture, the generated commentary, a footer with source, as-of date and
page number) and, for views marked ``table: true``, an editable table slide.

Every text from the data (names, answers, support items) goes in as a plain text run: PowerPoint
neither runs HTML nor evaluates formulas, so nothing needs escaping or neutralising here.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from exports.images import figure_png, start_in_background
from metrics.query import shared_results
from metrics.tables import build_info
from store.dates import japanese_date
from views.render import DEMO_NOTE as RENDER_DEMO_NOTE
from views.render import Deck, ViewResult, render_view, resolve_prefecture

SLIDE_WIDTH, SLIDE_HEIGHT = Emu(12192000), Emu(6858000)  # 16:9, PowerPoint's own widescreen size
MARGIN = Inches(0.45)
PICTURE_WIDTH = Inches(8.6)
PICTURE_HEIGHT = Inches(5.35)
PIXELS_PER_INCH = 150  # the chart PNG is drawn at this density of the picture's size on the slide
TEXT = RGBColor(0x1F, 0x29, 0x37)
MUTED = RGBColor(0x4B, 0x55, 0x63)
ACCENT = RGBColor(0x00, 0x72, 0xB2)  # views.style.OKABE_ITO[0]
HEADER_FILL = RGBColor(0xDD, 0xEB, 0xF7)  # the header fill of the Excel export
LONG_TEXT_EM = 16  # a column whose texts are longer than this (median, in em) stays off table slides
DEMO_NOTE = f"{RENDER_DEMO_NOTE}を含みます"


@dataclass
class DeckSummary:
    """What was written: the file, its slides and which views had no data to draw."""

    path: Path
    slides: int
    views: list[ViewResult]

    @property
    def empty_views(self) -> list[str]:
        return [v.title for v in self.views if v.figure is None]


def new_presentation(width=SLIDE_WIDTH, height=SLIDE_HEIGHT) -> Presentation:
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = width, height
    return presentation


def add_text(
    slide,
    left,
    top,
    width,
    height,
    text: str | list[str],
    size: int,
    *,
    bold: bool = False,
    colour: RGBColor = TEXT,
    align=PP_ALIGN.LEFT,
    anchor=MSO_ANCHOR.TOP,
    bullet: bool = False,
):
    """A text box of plain runs (one paragraph per line of ``text``)."""
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    lines = [text] if isinstance(text, str) else list(text)
    for i, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.alignment = align
        if bullet:
            paragraph.space_after = Pt(size * 0.6)
        run = paragraph.add_run()
        run.text = ("・" if bullet else "") + str(line)
        run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, colour
    return box


def add_picture(slide, png: bytes, left, top, width, height):
    return slide.shapes.add_picture(io.BytesIO(png), left, top, width, height)


def chart_png(result: ViewResult, width: Emu, height: Emu) -> bytes:
    """The view's figure as a PNG with the aspect of the picture frame on the slide."""
    return figure_png(
        result.figure,
        width=round(width / 914400 * 100),
        height=round(height / 914400 * 100),
        scale=PIXELS_PER_INCH / 100,
    )


def add_footer(slide, result_source: str, as_of: str, page: int, pages: int, width=SLIDE_WIDTH, height=SLIDE_HEIGHT):
    add_text(
        slide,
        MARGIN,
        height - Inches(0.45),
        width - 2 * MARGIN - Inches(1.2),
        Inches(0.35),
        "　".join(p for p in (result_source, as_of) if p),
        10,
        colour=MUTED,
    )
    add_text(
        slide,
        width - MARGIN - Inches(1.2),
        height - Inches(0.45),
        Inches(1.2),
        Inches(0.35),
        f"{page} / {pages}",
        10,
        colour=MUTED,
        align=PP_ALIGN.RIGHT,
    )


def cell_text(value) -> str:
    """A table cell as text: numbers with one decimal (integers without), missing as 「—」."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    return str(value)


def _em(text: str) -> float:
    """Width of a text in em: full-width (CJK) characters 1, others about half."""
    return sum(1.0 if ord(c) >= 0x2E80 else 0.55 for c in text)


@dataclass
class TableLayout:
    rows: int  # body rows that fit
    widths: list[int]  # EMU per column
    heights: list[int]  # EMU per row, the header first


def table_layout(frame: pd.DataFrame, width: int, max_height: int, size: int = 11) -> TableLayout:
    """Column widths in proportion to their longest text (long columns wrap) and as many body rows
    as fit ``max_height``, estimating each row's wrapped lines — so a table never runs off the slide."""
    em = Pt(size)
    texts = [[str(c) for c in frame.columns]] + [[cell_text(v) for v in row] for row in frame.itertuples(index=False)]
    wanted = [min(max(max(_em(row[j]) for row in texts) + 1.0, 3.0), 24.0) for j in range(len(frame.columns))]
    available = width / em
    widths_em = [w * available / sum(wanted) for w in wanted]
    line, padding = Pt(size * 1.25), Inches(0.1)
    heights, used, rows = [], 0, 0
    for i, row in enumerate(texts):
        lines = max(math.ceil(_em(text) / max(w - 0.8, 1.0)) if text else 1 for text, w in zip(row, widths_em))
        height = int(line * max(lines, 1) + padding)
        if i and used + height > max_height:
            break
        heights.append(height)
        used += height
        rows = i
    return TableLayout(rows, [int(w * em) for w in widths_em], heights)


def slide_columns(frame: pd.DataFrame, limit_em: float = LONG_TEXT_EM) -> tuple[pd.DataFrame, list[str]]:
    """The columns of ``frame`` that read well on a slide: long free-text columns (median text
    longer than ``limit_em``) are left to the Excel export, except those the view names in
    ``frame.attrs["slide_keep"]`` (they wrap, e.g. the three recommended support items a committee
    decides on). Returns the frame and the names of the columns left out."""
    keep = set(frame.attrs.get("slide_keep", ()))
    long = [
        c
        for c in frame.columns
        if c not in keep and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype))
    ]
    # widths as floats: mapping a column of the string dtype would keep its dtype and refuse the median
    left_out = [c for c in long if pd.Series([_em(str(t)) for t in frame[c].dropna()], dtype=float).median() > limit_em]
    return frame.drop(columns=left_out), left_out


def add_table(slide, frame: pd.DataFrame, left, top, layout: TableLayout, size: int = 11):
    """An editable PowerPoint table of the first ``layout.rows`` rows of ``frame`` (header row bold
    on the export's header fill, numbers right-aligned)."""
    frame = frame.head(layout.rows)
    shape = slide.shapes.add_table(
        len(frame) + 1, len(frame.columns), left, top, sum(layout.widths), sum(layout.heights)
    )
    table = shape.table
    for j, width in enumerate(layout.widths):
        table.columns[j].width = width
    for i, height in enumerate(layout.heights):
        table.rows[i].height = height
    for j, column in enumerate(frame.columns):
        cell = table.cell(0, j)
        cell.fill.solid()
        cell.fill.fore_color.rgb = HEADER_FILL
        run = _cell_run(cell, str(column))
        run.font.bold, run.font.size, run.font.color.rgb = True, Pt(size), TEXT
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            _cell_run(cell, cell_text(value)).font.size = Pt(size)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.text_frame.paragraphs[0].alignment = PP_ALIGN.RIGHT
    return shape


def _cell_run(cell, text: str):
    # a new cell has one empty paragraph; the text goes in as one plain run (even when empty, so
    # that its font size is set)
    run = cell.text_frame.paragraphs[0].add_run()
    run.text = text
    return run


def build_deck(
    con,
    deck: Deck,
    prefecture: str | None,
    out_path: str | Path,
    *,
    theme: str = "print",
    progress: Callable[[float, str], None] | None = None,
) -> DeckSummary:
    """Write the deck of ``deck``'s views for ``prefecture`` (name or code; None = the nation) to
    ``out_path``. Returns what was written. ``progress(fraction, text)`` is told how far the build
    is (0–1, in Japanese) after each view and each chart picture."""
    steps = 2 * len(deck.views) + 1  # every view's figures and texts, every chart picture, the file
    done = 0

    def step(text: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done / steps, 1.0), text)

    start_in_background()  # the browser that draws the chart pictures starts while the views are computed
    scope = resolve_prefecture(con, prefecture)
    results = []
    # the views read the same reference tables (rounds, municipalities, measures): once per deck
    with shared_results():
        for spec in deck.views:
            results.append((spec, render_view(con, spec, scope.pref_code or None, theme=theme)))
            step(f"集計とグラフ：{results[-1][1].title}")
    pages = 1 + len(results) + sum(1 for spec, r in results if spec.table and r.table is not None and len(r.table))
    presentation = new_presentation()
    blank = presentation.slide_layouts[6]
    info = build_info(con)
    demo = info.get("demo") == "true" or any("架空" in r.source for _, r in results)

    # ---- title slide
    slide = presentation.slides.add_slide(blank)
    add_text(
        slide, MARGIN, Inches(2.0), SLIDE_WIDTH - 2 * MARGIN, Inches(1.2), deck.title, 40, bold=True, colour=ACCENT
    )
    as_of_lines = list(dict.fromkeys(r.as_of for _, r in results if r.as_of))
    add_text(
        slide,
        MARGIN,
        Inches(3.3),
        SLIDE_WIDTH - 2 * MARGIN,
        Inches(1.5),
        [scope.name, f"データの時点：{'、'.join(as_of_lines)}", f"作成日：{japanese_date(date.today())}"],
        20,
        colour=TEXT,
    )
    sources = list(dict.fromkeys(r.source for _, r in results if r.source))
    add_text(
        slide,
        MARGIN,
        Inches(5.0),
        SLIDE_WIDTH - 2 * MARGIN,
        Inches(1.6),
        sources + ([DEMO_NOTE] if demo else []),
        12,
        colour=MUTED,
    )

    # ---- one slide per view, a table slide after it when asked
    page = 1
    for spec, result in results:
        page += 1
        slide = presentation.slides.add_slide(blank)
        add_text(slide, MARGIN, Inches(0.3), SLIDE_WIDTH - 2 * MARGIN, Inches(0.6), result.title, 28, bold=True)
        add_text(slide, MARGIN, Inches(0.9), SLIDE_WIDTH - 2 * MARGIN, Inches(0.4), result.subtitle, 14, colour=MUTED)
        top = Inches(1.4)
        text_left = MARGIN + PICTURE_WIDTH + Inches(0.25)
        text_width = SLIDE_WIDTH - text_left - MARGIN
        if result.figure is not None:
            add_picture(
                slide, chart_png(result, PICTURE_WIDTH, PICTURE_HEIGHT), MARGIN, top, PICTURE_WIDTH, PICTURE_HEIGHT
            )
        step(f"スライド：{result.title}")
        if result.figure is not None:
            add_text(
                slide, text_left, top + Inches(0.2), text_width, PICTURE_HEIGHT, result.commentary, 16, bullet=True
            )
        else:
            add_text(
                slide,
                MARGIN,
                top + Inches(1.5),
                SLIDE_WIDTH - 2 * MARGIN,
                Inches(2.0),
                result.commentary,
                22,
                colour=MUTED,
                align=PP_ALIGN.CENTER,
            )
        add_footer(slide, result.source, result.as_of, page, pages)
        if spec.table and result.table is not None and len(result.table):
            page += 1
            slide = presentation.slides.add_slide(blank)
            table_top = Inches(1.4)
            compact, left_out = slide_columns(result.table)
            layout = table_layout(compact, SLIDE_WIDTH - 2 * MARGIN, SLIDE_HEIGHT - table_top - Inches(0.9))
            shown = compact.head(layout.rows)
            add_text(
                slide,
                MARGIN,
                Inches(0.3),
                SLIDE_WIDTH - 2 * MARGIN,
                Inches(0.6),
                f"{result.title}（表）",
                28,
                bold=True,
            )
            rest = len(compact) - len(shown)
            notes = ([f"先頭{len(shown)}行を表示（ほか{rest:,}行はExcelの書き出しにあります）"] if rest else []) + (
                [f"「{'」「'.join(left_out)}」の列はExcelの書き出しにあります"] if left_out else []
            )
            add_text(
                slide, MARGIN, Inches(0.9), SLIDE_WIDTH - 2 * MARGIN, Inches(0.4), result.subtitle, 14, colour=MUTED
            )
            add_table(slide, shown, MARGIN, table_top, layout)
            if notes:
                add_text(
                    slide,
                    MARGIN,
                    table_top + sum(layout.heights) + Inches(0.05),
                    SLIDE_WIDTH - 2 * MARGIN,
                    Inches(0.3),
                    "。".join(notes) + "。",
                    11,
                    colour=MUTED,
                )
            add_footer(slide, result.source, result.as_of, page, pages)
    out_path = Path(out_path)
    presentation.save(out_path)
    step("ファイルに保存")
    return DeckSummary(out_path, pages, [r for _, r in results])
