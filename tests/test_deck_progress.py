"""会議資料（PPTX） on the overview: built only when its button is pressed, with a progress bar that
build_deck moves after each view, each chart picture and the file; then offered as a download."""

from __future__ import annotations

import io

from test_app_pages import open_app

from exports.pptx_deck import build_deck
from views.render import load_deck


def test_build_deck_reports_progress_up_to_done(demo_db, tmp_path, monkeypatch):
    import duckdb

    monkeypatch.setattr("exports.pptx_deck.figure_png", _tiny_png)
    monkeypatch.setattr("exports.pptx_deck.start_in_background", lambda: None)
    steps: list[tuple[float, str]] = []
    deck = load_deck()
    with duckdb.connect(str(demo_db), read_only=True) as con:
        summary = build_deck(con, deck, "兵庫県", tmp_path / "deck.pptx", progress=lambda f, t: steps.append((f, t)))
    fractions = [f for f, _ in steps]
    assert len(steps) == 2 * len(deck.views) + 1
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0 < fractions[0] < 1
    titles = {view.title for view in summary.views}
    assert all(any(title in text for title in titles) for _, text in steps[:-1]), steps
    assert not any(text.isascii() for _, text in steps), "Japanese for the user"


def test_overview_builds_the_deck_on_request_then_offers_it(demo_db, monkeypatch):
    monkeypatch.setattr("exports.pptx_deck.figure_png", _tiny_png)
    monkeypatch.setattr("exports.pptx_deck.start_in_background", lambda: None)
    at = open_app(monkeypatch, demo_db, pref="兵庫県")
    assert not at.exception
    assert "会議資料（PPTX）をダウンロード" not in [b.label for b in at.get("download_button")]
    at.button(key="ov_deck_build").click().run()
    assert not at.exception
    offered = [b for b in at.get("download_button") if b.label == "会議資料（PPTX）をダウンロード"]
    assert len(offered) == 1
    # the progress bar is gone once the file is ready; the file is kept for the next reruns
    assert not at.get("progress")
    at.run()
    assert [b.label for b in at.get("download_button")].count("会議資料（PPTX）をダウンロード") == 1
    assert not [b for b in at.button if b.key == "ov_deck_build"]


def _tiny_png(*args, **kwargs) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(buffer, format="PNG")
    return buffer.getvalue()
