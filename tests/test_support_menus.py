"""Support menus per provider (data/support_menus/): national + the selected prefecture's own items,
never another prefecture's; the Excel template and its upload, with Japanese errors naming row and
column, and the menus in force kept when an upload is broken."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from metrics import menus
from metrics.definitions import DefinitionError
from ui.export import excel_bytes


def test_each_view_sees_the_national_menu_and_only_its_own():
    national = menus.support_menu(None)
    assert national and all(item.prefecture is None for item in national.values())
    assert {"地域情報化アドバイザー派遣制度", "地域社会DX推進パッケージ事業（推進体制構築支援）"} <= {
        i.name for i in national.values()
    }
    for pref, prefix in (("兵庫県", "hyogo_"), ("和歌山県", "wakayama_"), ("宮城県", "miyagi_")):
        menu = menus.support_menu(pref)
        own = [i for i in menu.values() if i.prefecture is not None]
        assert own and all(i.prefecture == pref and i.id.startswith(prefix) for i in own)
        assert set(national) <= set(menu)
    assert [i for i in menus.support_menu("01").values() if i.prefecture] == []  # 北海道: no menu of its own yet
    assert menus.support_menu("28") == menus.support_menu("兵庫県") == menus.support_menu("280003")


def test_every_item_cites_its_source_document_and_page():
    for item in menus.all_menu_items().values():
        assert re.match(r"(総務省|兵庫県|和歌山県)「", item.source) and item.page, item.id
    assert all(
        i.page == "p.28"
        for i in menus.support_menu("宮城県").values()
        if i.id in ("miyagi_development", "miyagi_policy", "miyagi_structure", "miyagi_execution")
    )


def _template(pref: str) -> bytes:
    return excel_bytes({menus.TEMPLATE_SHEET: menus.menu_template_frame(pref)}, menus.menu_template_notes(pref))


def _edit(content: bytes, edits: dict[str, object]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book[menus.TEMPLATE_SHEET]
    for cell, value in edits.items():
        sheet[cell] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_template_round_trips_to_the_same_menu():
    parsed = menus.parse_menu_workbook(_template("兵庫県"), "兵庫県")
    assert [item.id for item in parsed.items] == [i.id for i in menus.support_menu("兵庫県").values() if i.prefecture]
    assert parsed.items[1].addresses.indicators == ["da_cio", "da_policy"]  # titles in the sheet, ids in the menu
    example = menus.parse_menu_workbook(_template("北海道"), "北海道")  # the example row is a valid menu
    assert example.prefecture == "北海道" and example.items[0].addresses.stages == [1]


@pytest.mark.parametrize(
    "edits, expected",
    [
        ({"C2": "大阪府"}, ["2行目", "C列「提供主体」", "大阪府"]),  # unknown provider
        ({"A3": "hyogo_liaison"}, ["3行目", "A列「ID（英数字）」", "重複"]),  # duplicate id
        ({"A2": "nat_pittari"}, ["2行目", "A列", "重複"]),  # an id of the national menu
        (
            {"I2": "存在しない指標"},
            ["2行目", "I列「対象のデジタル庁指標」", "存在しない指標"],
        ),  # weakness that matches nothing
        ({"H2": "財務"}, ["2行目", "H列「対象の分野」", "財務"]),
        ({"G2": "STEP7"}, ["2行目", "G列", "STEP7"]),
        ({"B4": '=HYPERLINK("http://x")'}, ["4行目", "B列「支援メニュー名」", "数式"]),  # a formula in a cell
    ],
)
def test_bad_menu_gets_a_japanese_error_naming_row_and_column(edits, expected):
    broken = _edit(_template("兵庫県"), edits)
    before = menus.support_menu("兵庫県")
    with pytest.raises(DefinitionError) as caught:
        menus.parse_menu_workbook(broken, "兵庫県")
    for part in expected:
        assert part in str(caught.value)
    assert menus.support_menu("兵庫県") == before  # the menus in force stay


def test_accepted_upload_replaces_only_that_prefectures_menu(tmp_path, monkeypatch):
    monkeypatch.setenv("DX_MENU_UPLOADS", str(tmp_path))
    content = _edit(_template("北海道"), {"A2": "hokkaido_consult", "B2": "DX個別相談会", "C2": "北海道"})
    menus.save_uploaded_menu(menus.parse_menu_workbook(content, "北海道"))
    hokkaido = menus.support_menu("北海道")
    assert "hokkaido_consult" in hokkaido and hokkaido["hokkaido_consult"].prefecture == "北海道"
    assert "hokkaido_consult" not in menus.support_menu("兵庫県") and "hokkaido_consult" not in menus.support_menu(None)


def test_yaml_menu_errors_name_file_item_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "prefecture: 架空県\nproviders: [架空県]\nitems:\n  - {id: x1, name: a, provider: 架空県, description: d,"
        " source: s, page: p.1, addresses: {stages: [9]}}\n  - {id: x1, name: b, provider: 架空県, description: d,"
        " source: s, page: p.1, addresses: {}}\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as caught:
        menus.parse_menu_file(bad)
    text = str(caught.value)
    assert (
        "bad.yaml" in text and "架空県" in text and "STEP9" in text and "2番目の項目（id）" in text and "重複" in text
    )


def test_data_page_menu_upload_keeps_the_menu_on_error_and_replaces_it_when_accepted(demo_db, tmp_path, monkeypatch):
    from test_app_pages import open_app

    monkeypatch.setenv("DX_MENU_UPLOADS", str(tmp_path))
    at = open_app(monkeypatch, demo_db, "app_pages/data.py")
    assert any(b.label.endswith("支援メニューのテンプレートをダウンロード") for b in at.get("download_button"))
    at.selectbox(key="dm_menu_pref").select("和歌山県").run()
    broken = _edit(_template("和歌山県"), {"C3": "兵庫県"})
    at.file_uploader(key="dm_menu_upload").upload("menu.xlsx", broken).run()
    assert not at.exception
    message = "\n".join(e.value for e in at.error)
    assert "今のメニューはそのまま" in message and "3行目" in message and "C列「提供主体」" in message
    assert not list(tmp_path.glob("*.yaml"))
    fixed = _edit(_template("和歌山県"), {"B2": "よろず相談（全体相談・改）"})
    at.file_uploader(key="dm_menu_upload").upload("menu.xlsx", fixed).run()
    at.button(key="dm_menu_accept").click().run()
    assert not at.exception
    assert menus.support_menu("和歌山県")["wakayama_general_consult"].name == "よろず相談（全体相談・改）"
    assert "wakayama_general_consult" not in menus.support_menu("兵庫県")
