"""Support menus per provider (data/support_menus/*.yaml): the national menu for everyone, plus one
file per prefecture that only that prefecture's municipalities see.

A planner who selects a prefecture gets the national items and that prefecture's own items, never
another prefecture's; the national view gets the national items only. A prefecture adds or replaces
its own menu by uploading the Excel menu template (``menu_template_frame`` → filled in →
``parse_menu_workbook``); an accepted upload is written under data/uploads/support_menus/ and
replaces the committed file of the same prefecture. Every file is validated by the pydantic models
below; errors are Japanese and name the file (or sheet), row and column, and a broken file never
replaces the menus in force.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from metrics.catalog import is_official_indicator
from metrics.definitions import DefinitionError, SupportItem, _read_yaml, load_questionnaire
from store.catalog import CatalogError, read_indicators
from store.paths import DATA_DIR

MENU_DIR = DATA_DIR / "support_menus"
NATIONAL = "全国"
PRIORITY_LEVELS = ("高", "中", "低")
PREFECTURES = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)
PREF_CODES = {name: f"{i:02d}" for i, name in enumerate(PREFECTURES, start=1)}

# the Excel template: one row per item; the column titles are what a planner reads and writes
TEMPLATE_COLUMNS = {
    "id": "ID（英数字）",
    "name": "支援メニュー名",
    "provider": "提供主体",
    "description": "内容",
    "source": "出典",
    "page": "頁・章",
    "stages": "対象の段階（STEP0〜3）",
    "fields": "対象の分野",
    "indicators": "対象のデジタル庁指標",
    "priorities": "対象の支援優先度",
}
TEMPLATE_SHEET = "支援メニュー"
PREFECTURE_LABEL = "都道府県"
ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def uploaded_menu_dir() -> Path:
    """Where accepted uploads live ($DX_MENU_UPLOADS, else data/uploads/support_menus; git-ignored)."""
    return Path(os.environ.get("DX_MENU_UPLOADS") or DATA_DIR / "uploads" / "support_menus")


def indicator_titles() -> dict[str, str]:
    """indicator id → short title of every indicator in data/indicators/*.yaml."""
    try:
        files = read_indicators()
    except CatalogError as exc:
        raise DefinitionError(exc.message) from None
    return {entry["id"]: entry.get("short_title") or entry["title"] for _, entries in files for entry in entries}


class Addresses(BaseModel):
    """The weaknesses an item is for. At least one must be named (an item for nothing is never recommended)."""

    model_config = ConfigDict(extra="forbid")
    stages: list[int] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)
    indicators: list[str] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=list)


class MenuItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    description: str = Field(min_length=1)
    source: str = Field(min_length=1)
    page: str = Field(min_length=1)
    addresses: Addresses

    @field_validator("id")
    @classmethod
    def _id_is_plain(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("IDは英字で始まる英数字（_ 可）にしてください")
        return value

    @field_validator("description", mode="before")
    @classmethod
    def _one_line(cls, value):
        return " ".join(str(value).split()) if value is not None else value


class MenuFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prefecture: str | None = None
    providers: list[str] = Field(min_length=1)
    items: list[MenuItem] = Field(min_length=1)


# ---------------------------------------------------------------- validation beyond the models


def _problems(menu: MenuFile, where, known_ids: set[str] | None = None) -> list[str]:
    """Provider, duplicate-id and weakness checks. ``where(position, key)`` names the place of a
    problem (file + item, or sheet + row + column)."""
    questionnaire = load_questionnaire()
    indicators = indicator_titles()
    problems = []
    if menu.prefecture is not None and menu.prefecture not in PREF_CODES:
        problems.append(f"{where(None, 'prefecture')}: 都道府県「{menu.prefecture}」は47都道府県の名前ではありません。")
    seen: set[str] = set()
    for position, item in enumerate(menu.items, start=1):
        allowed = item.provider in menu.providers or (
            menu.prefecture is not None and item.provider.startswith(menu.prefecture)
        )
        if not allowed:
            whose = "国のメニュー" if menu.prefecture is None else f"{menu.prefecture}のメニュー"
            problems.append(
                f"{where(position, 'provider')}: 提供主体「{item.provider}」は{whose}の提供主体"
                f"（{'・'.join(menu.providers)}）ではありません。"
            )
        if item.id in seen or (known_ids and item.id in known_ids):
            problems.append(f"{where(position, 'id')}: ID「{item.id}」が重複しています。")
        seen.add(item.id)
        a = item.addresses
        if not (a.stages or a.fields or a.indicators or a.priorities):
            problems.append(f"{where(position, 'stages')}: 対象の段階・分野・指標・優先度のどれも書かれていません。")
        for stage in a.stages:
            if stage not in questionnaire.stages:
                problems.append(
                    f"{where(position, 'stages')}: 段階「STEP{stage}」はアセスメントの段階"
                    f"（{'・'.join(f'STEP{s}' for s in sorted(questionnaire.stages))}）にありません。"
                )
        for name in a.fields:
            if name not in questionnaire.fields:
                problems.append(
                    f"{where(position, 'fields')}: 分野「{name}」"
                    f"はアセスメントの分野（{'・'.join(questionnaire.fields)}）にありません。"
                )
        for indicator in a.indicators:
            if indicator not in indicators:
                problems.append(f"{where(position, 'indicators')}: 指標「{indicator}」は指標カタログにありません。")
        for level in a.priorities:
            if level not in PRIORITY_LEVELS:
                problems.append(
                    f"{where(position, 'priorities')}: 支援優先度「{level}」は 高・中・低 のどれでもありません。"
                )
    return problems


def _pydantic_problems(exc: ValidationError, where) -> list[str]:
    out = []
    for error in exc.errors():
        loc = list(error["loc"])
        position, key = None, loc[0] if loc else "?"
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            position, key = (
                loc[1] + 1,
                (loc[3] if len(loc) > 3 and loc[2] == "addresses" else (loc[2] if len(loc) > 2 else "?")),
            )
        out.append(f"{where(position, key)}: {_pydantic_message(error)}")
    return out


def _pydantic_message(error: dict) -> str:
    kind = error["type"]
    if kind == "missing":
        return "値がありません。"
    if kind == "extra_forbidden":
        return "この項目は使えません。"
    if kind in ("string_too_short", "too_short"):
        return "空欄にはできません。"
    if kind.startswith("int"):
        return "整数（0〜3）を書いてください。"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ") + "。"
    return f"値が正しくありません（{error['msg']}）。"


def parse_menu_file(path: Path) -> MenuFile:
    """One YAML menu file, validated; DefinitionError naming the file, item and key otherwise.
    The result is shared (read it, do not change it)."""
    path = Path(path)
    # validated once per version of the file and of the indicator catalog it names: the deck, the
    # support plan and the カルテ read the menus many times per run (1.5 s of a 10-slide deck)
    indicators = tuple((p.name, p.stat().st_mtime_ns) for p in sorted((DATA_DIR / "indicators").glob("*.yaml")))
    stat = path.stat()
    return _validated_menu_file(path, (stat.st_mtime_ns, stat.st_size), indicators)


@lru_cache(maxsize=64)
def _validated_menu_file(path: Path, _version: tuple, _indicators: tuple) -> MenuFile:
    data = _read_yaml(path)

    def where(position, key):
        return f"ファイル「{path.name}」" + (f"の{position}番目の項目" if position else "") + f"（{key}）"

    try:
        menu = MenuFile.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError("\n".join(_pydantic_problems(exc, where))) from None
    problems = _problems(menu, where)
    if problems:
        raise DefinitionError("\n".join(problems))
    return menu


def menu_files() -> dict[str | None, MenuFile]:
    """Every menu in force: prefecture (None = national) → its file. A prefecture's accepted upload
    replaces its committed file. Ids must be unique across all files in force."""
    files: dict[str | None, tuple[Path, MenuFile]] = {}
    for folder in (MENU_DIR, uploaded_menu_dir()):
        for path in sorted(Path(folder).glob("*.yaml")) if Path(folder).is_dir() else ():
            menu = parse_menu_file(path)
            files[menu.prefecture] = (path, menu)
    owner: dict[str, str] = {}
    for path, menu in files.values():
        for item in menu.items:
            if item.id in owner:
                raise DefinitionError(
                    f"ファイル「{path.name}」のID「{item.id}」は、ファイル「{owner[item.id]}」と重複しています。"
                )
            owner[item.id] = path.name
    if None not in files:
        raise DefinitionError(f"国の支援メニュー（prefecture: null のファイル）が {MENU_DIR.name} にありません。")
    return {pref: menu for pref, (_path, menu) in files.items()}


def _support_item(item: MenuItem, prefecture: str | None) -> SupportItem:
    a = item.addresses
    return SupportItem(
        id=item.id,
        name=item.name,
        provider=item.provider,
        description=item.description,
        source=item.source,
        stages=tuple(a.stages),
        fields=tuple(a.fields),
        indicators=tuple(a.indicators),
        priorities=tuple(a.priorities),
        page=item.page,
        prefecture=prefecture,
    )


def support_menu(prefecture: str | None = None) -> dict[str, SupportItem]:
    """The menu in force for a view: the national items, then ``prefecture``'s own items (a name
    such as '兵庫県', or a prefecture code '28' / '280003'). None → national items only."""
    files = menu_files()
    prefecture = pref_name(prefecture)
    menu = {item.id: _support_item(item, None) for item in files[None].items}
    if prefecture and prefecture in files:
        menu.update({item.id: _support_item(item, prefecture) for item in files[prefecture].items})
    return menu


def all_menu_items() -> dict[str, SupportItem]:
    """Every item of every provider (for id lookups and rule validation, never for recommending)."""
    menu: dict[str, SupportItem] = {}
    for prefecture, file in menu_files().items():
        menu.update({item.id: _support_item(item, prefecture) for item in file.items})
    return menu


def menus_digest() -> str:
    """A digest of every support menu item in force (the national menu and each prefecture's, an
    accepted upload included): the support priority a build stored was judged with the menus of
    this digest (``metrics.tables.current_priority``)."""
    items = [repr(item) for item in all_menu_items().values()]
    return hashlib.sha256("\n".join(items).encode("utf-8")).hexdigest()[:16]


def pref_name(prefecture: str | None) -> str | None:
    """'兵庫県' for '兵庫県', '28' or '280003'; None for None / ''."""
    if not prefecture:
        return None
    text = str(prefecture).strip()
    if text in PREF_CODES:
        return text
    if text.isdigit():
        number = int(text[:2]) if len(text) >= 2 else int(text)
        if 1 <= number <= len(PREFECTURES):
            return PREFECTURES[number - 1]
    raise DefinitionError(f"都道府県「{prefecture}」が分かりません。")


def menu_summary(prefecture: str | None = None) -> pd.DataFrame:
    """The menu in force as a table for the page: 提供主体, 支援メニュー, 内容, 出典 (source and page)."""
    menu = support_menu(prefecture)
    return pd.DataFrame(
        {
            "区分": ["国" if item.prefecture is None else item.prefecture for item in menu.values()],
            "提供主体": [item.provider for item in menu.values()],
            "支援メニュー": [item.name for item in menu.values()],
            "内容": [item.description for item in menu.values()],
            "出典": [f"{item.source} {item.page}" for item in menu.values()],
        }
    )


# ---------------------------------------------------------------- the Excel template and its upload


def menu_template_frame(prefecture: str) -> pd.DataFrame:
    """The rows of the Excel template for ``prefecture``: its menu in force (or an example row
    when it has none yet), with Japanese column titles and labels instead of ids."""
    prefecture = pref_name(prefecture)
    files = menu_files()
    titles = indicator_titles()
    items = files[prefecture].items if prefecture in files else []
    rows = [
        {
            TEMPLATE_COLUMNS["id"]: item.id,
            TEMPLATE_COLUMNS["name"]: item.name,
            TEMPLATE_COLUMNS["provider"]: item.provider,
            TEMPLATE_COLUMNS["description"]: item.description,
            TEMPLATE_COLUMNS["source"]: item.source,
            TEMPLATE_COLUMNS["page"]: item.page,
            TEMPLATE_COLUMNS["stages"]: "・".join(f"STEP{s}" for s in item.addresses.stages),
            TEMPLATE_COLUMNS["fields"]: "・".join(item.addresses.fields),
            TEMPLATE_COLUMNS["indicators"]: "、".join(titles.get(i, i) for i in item.addresses.indicators),
            TEMPLATE_COLUMNS["priorities"]: "・".join(item.addresses.priorities),
        }
        for item in items
    ]
    if not rows:
        rows = [
            {
                TEMPLATE_COLUMNS["id"]: "example_consult",
                TEMPLATE_COLUMNS["name"]: "（例）DX個別相談会",
                TEMPLATE_COLUMNS["provider"]: prefecture,
                TEMPLATE_COLUMNS["description"]: "（例）全体方針づくりを個別に相談できる会。",
                TEMPLATE_COLUMNS["source"]: f"{prefecture}の支援事業資料",
                TEMPLATE_COLUMNS["page"]: "p.1",
                TEMPLATE_COLUMNS["stages"]: "STEP1",
                TEMPLATE_COLUMNS["fields"]: "DX全般",
                TEMPLATE_COLUMNS["indicators"]: "全体方針",
                TEMPLATE_COLUMNS["priorities"]: "",
            }
        ]
    return pd.DataFrame(rows, columns=list(TEMPLATE_COLUMNS.values()))


def menu_template_notes(prefecture: str) -> list[tuple[str, str]]:
    """The 「説明」 sheet of the template: how to fill it in, and the words each column accepts."""
    questionnaire = load_questionnaire()
    return [
        (PREFECTURE_LABEL, pref_name(prefecture)),
        (
            "使い方",
            f"「{TEMPLATE_SHEET}」シートに1行1項目で書き、データ管理の「支援メニューの取り込み」からアップロードします。"
            "取り込むと、この都道府県の支援メニューが置き換わります（国のメニューはそのまま）。",
        ),
        ("ID（英数字）", "英字で始まる英数字と _ 。ほかの都道府県や国のメニューと重ならない名前にします。"),
        (
            "提供主体",
            f"{pref_name(prefecture)}、または{pref_name(prefecture)}で始まる名前（例: "
            f"{pref_name(prefecture)}電子自治体推進協議会）。",
        ),
        (
            "対象の段階",
            "・".join(f"STEP{s}（{n}）" for s, n in sorted(questionnaire.stages.items()))
            + " を「・」で区切って書きます（指標だけは「、」で区切ります）。",
        ),
        ("対象の分野", "・".join(questionnaire.fields)),
        (
            "対象のデジタル庁指標",
            "、".join(
                title
                for i, title in indicator_titles().items()
                if is_official_indicator(i) and "分母" not in title and "分子" not in title
            ),
        ),
        ("対象の支援優先度", "高・中・低"),
        ("注意", "セルに数式（= で始まる式）は使えません。段階・分野・指標・優先度のどれか1つは必ず書きます。"),
    ]


def parse_menu_workbook(content: bytes, prefecture: str, sheet_label: str = TEMPLATE_SHEET) -> MenuFile:
    """A filled-in menu template (.xlsx bytes) for ``prefecture``, validated against the menus in
    force of the other providers. DefinitionError with every problem, each naming sheet, row and
    column (as in Excel: 行 2 = the first item, column letter and title)."""
    import openpyxl  # only the upload path needs it
    from openpyxl.utils import get_column_letter

    prefecture = pref_name(prefecture)
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), data_only=False, read_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise DefinitionError(
            f"Excelファイルとして読めません（{type(exc).__name__}）。支援メニューのテンプレート（.xlsx）を使ってください。"
        ) from None
    if sheet_label not in book.sheetnames:
        raise DefinitionError(
            f"シート「{sheet_label}」がありません。データ管理からダウンロードしたテンプレートを使ってください。"
        )
    sheet = book[sheet_label]
    rows = list(sheet.iter_rows(values_only=False))
    if not rows:
        raise DefinitionError(f"シート「{sheet_label}」が空です。")
    header = [str(c.value).strip() if c.value is not None else "" for c in rows[0]]
    columns = {key: header.index(title) for key, title in TEMPLATE_COLUMNS.items() if title in header}
    missing = [title for key, title in TEMPLATE_COLUMNS.items() if key not in columns]
    if missing:
        raise DefinitionError(f"シート「{sheet_label}」の1行目に列「{'」「'.join(missing)}」がありません。")

    def place(row_number: int, key: str) -> str:
        j = columns[key]
        return f"シート「{sheet_label}」の{row_number}行目・{get_column_letter(j + 1)}列「{TEMPLATE_COLUMNS[key]}」"

    problems: list[str] = []
    titles = {title: i for i, title in indicator_titles().items()}
    questionnaire = load_questionnaire()
    stage_names = {name: stage for stage, name in questionnaire.stages.items()}
    items, row_numbers = [], []
    for row_number, cells in enumerate(rows[1:], start=2):
        values = {}
        for key, j in columns.items():
            cell = cells[j] if j < len(cells) else None
            value = cell.value if cell is not None else None
            if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")):
                problems.append(f"{place(row_number, key)}: 数式は使えません。値を直接書いてください。")
                value = None
            values[key] = "" if value is None else str(value).strip()
        if not any(values.values()):
            continue
        # indicator names contain ・ (子育て・介護26手続): they are separated by 、 only
        parts = {
            key: [
                p.strip()
                for p in re.split(r"[、,，\n]" if key == "indicators" else r"[・、,，/／\n]", values[key])
                if p.strip()
            ]
            for key in ("stages", "fields", "indicators", "priorities")
        }
        stages = []
        for part in parts["stages"]:
            text = part.upper().replace("ＳＴＥＰ", "STEP").replace("STEP", "").strip()
            if text.isdigit():
                stages.append(int(text))
            elif part in stage_names:
                stages.append(stage_names[part])
            else:
                problems.append(
                    f"{place(row_number, 'stages')}: 段階「{part}」が分かりません（STEP0〜STEP3 で書きます）。"
                )
        indicators = []
        for part in parts["indicators"]:
            if part in titles:
                indicators.append(titles[part])
            else:
                problems.append(
                    f"{place(row_number, 'indicators')}: 指標「{part}」はデジタル庁指標の名前にありません"
                    "（「説明」シートの一覧から選びます）。"
                )
        items.append(
            {
                "id": values["id"],
                "name": values["name"],
                "provider": values["provider"],
                "description": values["description"],
                "source": values["source"],
                "page": values["page"],
                "addresses": {
                    "stages": stages,
                    "fields": parts["fields"],
                    "indicators": indicators,
                    "priorities": parts["priorities"],
                },
            }
        )
        row_numbers.append(row_number)
    if not items:
        problems.append(f"シート「{sheet_label}」に支援メニューの行がありません（2行目から書きます）。")

    def where(position, key):
        if position is None:
            return f"シート「{sheet_label}」"
        return place(row_numbers[position - 1], key if key in columns else "id")

    data = {"prefecture": prefecture, "providers": [prefecture], "items": items}
    try:
        menu = MenuFile.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError("\n".join(problems + _pydantic_problems(exc, where))) from None
    others = {item.id for pref, file in menu_files().items() if pref != prefecture for item in file.items}
    problems += _problems(menu, where, known_ids=others)
    if problems:
        raise DefinitionError("\n".join(problems))
    return menu


def save_uploaded_menu(menu: MenuFile) -> Path:
    """Write an accepted menu to the upload folder (atomically: a temporary file, then a rename),
    where it replaces the committed menu of the same prefecture."""
    folder = uploaded_menu_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pref_{PREF_CODES[menu.prefecture]}.yaml"
    text = yaml.safe_dump(menu.model_dump(), allow_unicode=True, sort_keys=False)
    temporary = path.with_suffix(".yaml.tmp")
    temporary.write_text(
        f"# {menu.prefecture}の支援メニュー（データ管理から取り込んだもの）\n" + text, encoding="utf-8"
    )
    os.replace(temporary, path)
    return path


def load_support_menu(path: Path | None = None, prefecture: str | None = None) -> dict[str, SupportItem]:
    """Support menu items, id → item in file order (metrics.menus reads and validates the files).

    ``path``: that one menu file's items. Else ``prefecture`` ('兵庫県' or '28'): the national items
    plus that prefecture's own. Neither: every item of every provider — for looking items up by id,
    never for recommending (a view recommends from ``metrics.support_menu(prefecture)``)."""
    if path is not None:
        file = parse_menu_file(Path(path))
        return {item.id: _support_item(item, file.prefecture) for item in file.items}
    if prefecture is not None:
        return support_menu(prefecture)
    return all_menu_items()
