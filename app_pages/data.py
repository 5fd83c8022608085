"""データ管理: upload a file and read its validation report before it is taken in; rebuild the
database (atomic swap, the previous file kept); fetch the official files; roll back to a kept
version; sources with licence and as-of date; the ingest log (who loaded which file when) and
unresolved names; the survey template; all numbers as Excel. Every action that changes data on the
server needs an administrator when the deployment names one (ui.auth, docs/ADMIN.md)."""

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from loaders import lock as build_lock
from loaders import store
from loaders.build import BuildProblemsError, ShrinkError, all_loaders, build, check_file
from loaders.demo import real_data_folders
from loaders.errors import LoaderError, shorten
from loaders.fetch import CACHE_DIR, fetch, planned_downloads
from loaders.questionnaire import load_questionnaire
from loaders.registry import load_registry
from loaders.template import write_template
from metrics import dates, menus, views
from metrics.definitions import DefinitionError
from metrics.export import workbook_bytes
from metrics.geometry import missing_boundaries
from store.dates import japanese_date
from store.paths import DEFAULT_DB
from ui import auth, chrome, data, export, filters, uploads
from views import style

selection = filters.current()
chrome.page_header("データ管理", "取り込み・検証・再構築と、出典・ライセンス・取込ログ。")
info = chrome.build_info()
access = auth.admin_gate()

# ---- what is shown now
st.header("表示中のデータベース", anchor=False)
counts = data.cached(views.table_counts)()
left, right = st.columns([2, 3], gap="medium")
with left:
    st.markdown(
        f"- 構築: {info.get('built_at', '不明').replace('T', ' ')}（{info.get('built_by', '不明')}）\n"
        f"- 種類: {'**' + chrome.DEMO_LABEL + '**を含むデモ' if chrome.is_demo() else '公開データ・調査データ'}"
    )
    if data.is_demo_fallback():
        st.caption(
            "実データのデータベースがまだ作られていないため、デモ用データベースを表示しています。再構築すると実データのデータベースを作ります。"
        )
with right:
    st.dataframe(
        counts.rename(columns={"item": "項目", "rows": "件数"}),
        hide_index=True,
        height=35 * len(counts) + 40,
        column_config={"件数": st.column_config.NumberColumn(format="localized")},
    )

# ---- upload → validate → accept
st.header("ファイルの取り込み", anchor=False)
st.caption(
    "CSV・Excel・GeoJSON・TopoJSON・zip（国土数値情報のShapefile）を受け付けます。ファイルの種類は名前ではなく内容で判別し、"
    "取り込む前に検証結果を表示します。問題のないファイルだけを「取り込み対象に追加」でき、"
    "「データベースを再構築」を押すまで、表示中のデータは変わりません。"
)
upload_cap = st.get_option("server.maxUploadSize")
if access.allowed:
    st.caption(
        f"1ファイル {upload_cap:,} MB まで（上限はサーバーの設定で変えられます。docs/ADMIN.md）。"
        "これより大きいファイルは"
        "受け付けられないため、サーバー上で `python -m loaders build --source フォルダ` で取り込んでください。"
    )
elif access.can_log_in:
    st.info(
        "ファイルの取り込み・公式データの取得・再構築・切り戻しは管理者だけが行えます。上の「管理者ログイン」からログインしてください。",
        icon=":material/lock:",
    )
# the uploader itself writes nothing, but each file it receives is staged on disk below, so viewers get none
files = (
    st.file_uploader(
        "ファイルを選ぶ（複数可）",
        type=[s.lstrip(".") for s in uploads.ALLOWED_SUFFIXES],
        accept_multiple_files=True,
        key="dm_upload",
    )
    if access.allowed
    else None
)
checked = st.session_state.setdefault("dm_checked", {})
for upload in files or []:
    try:
        staged = uploads.stage(upload.name, upload.getvalue())
    except uploads.UploadNameError as exc:
        st.error(str(exc))
        continue
    if staged.sha256 not in checked:
        with st.spinner(f"{staged.path.name} を検証しています…"):
            loader, result, issues = check_file(staged.path)
        checked[staged.sha256] = {
            "loader": loader.title if loader else None,
            "tables": {name: (len(frame), frame.head(10)) for name, frame in (result.tables if result else {}).items()},
            "issues": pd.DataFrame(
                [i.as_dict() for i in issues], columns=["level", "file", "row", "column", "message"]
            ),
            # a hostile file's 10 MB "name" must not reach the browser whole
            "unresolved": pd.DataFrame(
                [{**u, "name": shorten(u["name"])} for u in (result.report.unresolved if result else [])]
            ),
            "ok": result is not None and not any(i.level == "error" for i in issues),
        }
    report = checked[staged.sha256]
    with st.container(border=True):
        status = "問題なし" if report["ok"] else "エラーあり（取り込めません）"
        st.markdown(
            f"**{staged.path.name}**（{staged.size:,} バイト）— 種類: {report['loader'] or '判別できません'} — "
            f"**{status}**"
        )
        for name, (rows, head) in report["tables"].items():
            st.caption(f"{name}: {rows:,} 行（先頭10行）")
            st.dataframe(head, hide_index=True, height=min(35 * len(head) + 40, 300))
        issues = report["issues"]
        if len(issues):
            labels = {"error": "エラー", "warning": "警告", "info": "情報"}
            st.dataframe(
                issues.assign(level=issues["level"].map(labels)).rename(
                    columns={"level": "区分", "file": "ファイル", "row": "行", "column": "列", "message": "内容"}
                ),
                hide_index=True,
            )
        if len(report["unresolved"]):
            st.warning(
                f"市区町村に対応付けできなかった名前が {len(report['unresolved'])} 件あります（推測では補いません）。"
            )
            st.dataframe(report["unresolved"], hide_index=True)
        if report.get("accepted"):
            st.success(f"{staged.path.name} は取り込み対象です。「データベースを再構築」で反映されます。")
        elif report["ok"]:
            as_of = st.date_input(
                "調査時点（このファイルの数値が表す日。分からなければ空欄）",
                value=None,
                max_value=date.today(),
                format="YYYY/MM/DD",
                key=f"dm_asof_{staged.sha256[:12]}",
                help="公表元が示す調査時点（例：4月1日現在の調査なら その年の4月1日）。"
                "ダウンロードした日ではありません。"
                "既知の版は自動で調査時点が付きます。空欄で既知の版でもなければ「調査時点不明」として取り込み、"
                "アップロードした日を取得日として記録します。",
            )
            if st.button("取り込み対象に追加", key=f"dm_accept_{staged.sha256[:12]}", icon=":material/check:"):
                try:
                    uploads.accept(staged.path, as_of=as_of)
                except uploads.UploadNameError as exc:
                    st.error(str(exc))
                else:
                    report["accepted"] = True
                    st.success(
                        f"{staged.path.name} を data/uploads に置きました。「データベースを再構築」で反映されます。"
                    )

waiting = uploads.accepted()
sources = real_data_folders() + ([uploads.UPLOAD_DIR] if waiting else [])
st.markdown("**再構築で読み込むもの**")
st.markdown("\n".join(f"- {line}" for line in uploads.describe_sources(sources)) or "- （公開データが見つかりません）")
declared = uploads.declared_dates()
for path in waiting:
    cols = st.columns([6, 1])
    when = (
        f"調査時点 {japanese_date(declared[path.name])}"
        if path.name in declared
        else "調査時点の指定なし（既知の版でなければ調査時点不明）"
    )
    cols[0].caption(f"{path.name}（{path.stat().st_size:,} バイト、{when}）")
    if access.allowed:
        cols[1].button("削除", key=f"dm_remove_{path.name}", on_click=uploads.remove, args=(path.name,))
target = DEFAULT_DB if data.is_demo_fallback() else data.database_path()


def run_build(force: bool = False) -> None:
    """Rebuild under the build lock; every problem, a shrinking result or another running update is
    reported in Japanese and leaves the database as it is."""
    with st.status("再構築しています…", expanded=True) as status:
        try:
            summary = build(
                sources,
                target,
                loaded_by=access.identity,
                upload_dirs=[uploads.UPLOAD_DIR],
                force=force,
                declared_as_of={str(uploads.UPLOAD_DIR / name): day for name, day in declared.items()},
                on_file=lambda p: status.write(f"読み込み中: {Path(p).name}"),
            )
        except ShrinkError as exc:
            status.update(label="再構築を止めました（データベースは元のまま）", state="error")
            st.session_state["dm_shrink"] = {"message": exc.reason, "table": exc.table}
        except BuildProblemsError as exc:
            status.update(label="再構築できませんでした（データベースは元のまま）", state="error")
            st.error(exc.headline)
            st.dataframe(exc.table(), hide_index=True)
        except LoaderError as exc:  # a broken definition, another update running (BuildLockedError)
            status.update(label="再構築できませんでした（データベースは元のまま）", state="error")
            st.error(str(exc))
        else:
            status.update(label=f"再構築しました（{summary.seconds:.1f} 秒）", state="complete")
            st.code("\n".join(summary.lines()), language=None)
            data.refresh()


running = build_lock.holder(target)
if running:
    st.info(build_lock.describe_holder(running), icon=":material/hourglass_top:")
confirmed = st.session_state.pop("dm_shrink_confirmed", False)
if access.allowed and st.button(
    "データベースを再構築",
    type="primary",
    icon=":material/autorenew:",
    key="dm_rebuild",
    help="データベースを作り直し、完成してから入れ替えます。失敗したときは今のデータベースがそのまま残ります。",
):
    st.session_state.pop("dm_shrink", None)
    run_build()
elif access.allowed and confirmed and st.session_state.pop("dm_shrink", None):
    run_build(force=True)
shrink = st.session_state.get("dm_shrink")
if access.allowed and shrink:
    st.warning(
        f"{shrink['message']}今のデータベースは変更していません。次の表を確かめ、このまま置き換えてよいときだけ確定してください。",
        icon=":material/warning:",
    )
    st.dataframe(
        shrink["table"],
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(format="localized") for c in ("現在", "新しいデータベース")},
    )
    st.button(
        "少なくなることを確認して置き換える",
        key="dm_rebuild_force",
        icon=":material/done_all:",
        on_click=st.session_state.update,
        kwargs={"dm_shrink_confirmed": True},
    )

versions = store.list_versions(target)
version_labels = {version: data.version_label(version) for version in versions}  # before a rollback moves one
with st.expander(f"以前の版に戻す（保存されている版: {len(versions)}）"):
    st.caption("再構築の前のデータベースは最新の数版が残ります。戻すと、今のデータベースも版として残ります。")
    if not versions:
        st.write("保存されている以前の版はありません。")
    elif access.allowed:
        chosen = st.selectbox("戻す版", versions, format_func=version_labels.get, key="dm_version")
        if st.button("この版に戻す", key="dm_rollback", icon=":material/history:"):
            try:
                with build_lock.BuildLock(target, user=access.identity, action="切り戻し"):
                    store.rollback(target, chosen)
            except LoaderError as exc:
                st.error(f"戻せませんでした（データベースは元のまま）: {exc}")
            else:
                data.refresh()
                st.success(f"{version_labels[chosen]}に戻しました。")
    else:
        st.markdown("\n".join(f"- {label}" for label in version_labels.values()))

with st.expander("公式データの取得（インターネット接続が必要）"):
    known_sources = data.cached(views.sources_overview)()
    source_titles = dict(zip(known_sources["source"], known_sources["title"]))
    plan = pd.DataFrame(
        [
            {"出典": source_titles.get(d.source_id, d.source_id), "ファイル": d.relative_path, "URL": d.url}
            for d in planned_downloads()
        ]
    )
    st.dataframe(plan, hide_index=True)
    if access.allowed and st.button("公式サイトから取得", key="dm_fetch", icon=":material/cloud_download:"):
        with st.spinner("ダウンロードしています…"):
            try:
                with build_lock.BuildLock(target, user=access.identity, action="公式データの取得"):
                    manifest = fetch(CACHE_DIR, progress=None)
            except LoaderError as exc:
                st.error(f"取得できませんでした: {exc}")
            else:
                st.success(f"{len(manifest)} 件を {CACHE_DIR} に保存しました。「データベースを再構築」で取り込めます。")

# ---- provenance
st.header("出典・ライセンス・調査時点", anchor=False)
st.caption(
    "調査時点は数値が表す時点（公表元の「データの定義」による）、取得日はファイルを入手した日です。別の事実なので別に示します。"
)
overview = data.cached(views.sources_overview)()
overview = overview.assign(dates=[chrome.source_dates(row).removeprefix("、") for row in overview.itertuples()])
st.dataframe(
    overview[["title", "publisher", "licence", "credit", "dates", "as_of_note", "rows", "synthetic", "loaded"]].rename(
        columns={
            "title": "データ",
            "publisher": "提供",
            "licence": "ライセンス",
            "credit": "出典表記",
            "dates": "調査時点・取得日",
            "as_of_note": "調査時点の注記",
            "rows": "件数",
            "synthetic": "架空データ",
            "loaded": "取込済み",
        }
    ),
    hide_index=True,
    column_config={"件数": st.column_config.NumberColumn(format="localized")},
)
st.markdown("**読み込んだ版**")
st.dataframe(data.cached(dates.loaded_releases)(), hide_index=True)

log_col, unresolved_col = st.columns(2, gap="medium")
with log_col:
    st.header("取込ログ", anchor=False)
    st.caption("いつ・誰が・どのファイル（SHA-256）を取り込んだか。")
    log = data.cached(views.ingest_log)()
    # the loader and the result as people read them (the log stores the loader's id and an English status)
    loader_titles = {loader.name: loader.title for loader in all_loaders()}
    results = {
        "ok": "取込済み",
        "warning": "取込済み（警告あり）",
        "skipped": "対象外",
        "duplicate": "重複（同じ内容を読み込み済み）",
        "error": "エラー",
    }
    log = log.assign(
        loader=log["loader"].map(loader_titles).fillna("—"), status=log["status"].map(results).fillna(log["status"])
    )
    st.dataframe(
        log.rename(
            columns={
                "loaded_at": "日時",
                "file": "ファイル",
                "loader": "種類",
                "rows": "行数",
                "status": "結果",
                "message": "メッセージ",
                "loaded_by": "担当",
                "sha256": "SHA-256",
            }
        ),
        hide_index=True,
        height=320,
    )
with unresolved_col:
    st.header("対応付けできなかった名前", anchor=False)
    unresolved = data.cached(views.unresolved_names)()
    if unresolved.empty:
        st.write("ありません。すべての市区町村名が団体コードに対応しました。")
    else:
        st.dataframe(
            unresolved.rename(
                columns={"file": "ファイル", "row_no": "行", "column_ref": "列", "name": "名前", "reason": "理由"}
            ),
            hide_index=True,
            height=320,
        )
    lost = data.cached(missing_boundaries)()
    if len(lost) == len(filters.directory()):
        st.caption("境界データが読み込まれていないため、地図はすべての団体を登録簿の位置に点で示します。")
    elif len(lost):
        st.caption(
            f"境界（ポリゴン）のない団体 {len(lost)}："
            + "、".join(lost["pref_name"] + lost["name"])
            + "。地図では登録簿の位置に点で示します。"
        )

# ---- survey template and full export
template_col, workbook_col = st.columns(2, gap="medium")
with template_col:
    st.header("調査票（Excel）", anchor=False)
    prefectures = data.cached(views.prefectures)()
    names = prefectures["name"].tolist()
    default = names.index(selection.pref_name) if selection.pref_name in names else names.index("兵庫県")
    pref_name = st.selectbox("都道府県", names, index=default, key="dm_pref")
    round_id = st.text_input(
        "回の識別子",
        value=f"{date.today().year}-baseline",
        key="dm_round",
        help="例: 2026-baseline（当初）、2026-evaluation（評価）。英数字とハイフン。",
    )
    if st.button("調査票を作成", key="dm_template", icon=":material/description:"):
        try:
            with tempfile.TemporaryDirectory() as folder:
                path = write_template(
                    Path(folder) / "survey.xlsx", pref_name, round_id, load_registry(), load_questionnaire()
                )
                st.session_state["dm_template_bytes"] = (pref_name, round_id, path.read_bytes())
        except LoaderError as exc:
            st.error(str(exc))
    made = st.session_state.get("dm_template_bytes")
    if made:
        export.download(
            f"{made[0]}の調査票（{made[1]}）をダウンロード",
            made[2],
            file_name=f"{style.file_stem('調査票', made[0], made[1])}.xlsx",
            mime=export.XLSX_MIME,
            key="dm_template_download",
        )
    st.caption(
        "1行 = 1団体（県内の全市町村を記入済み）、設問ごとにプルダウン。"
        "回答済みのファイルは上の取り込みでそのまま読み込めます。"
    )
with workbook_col:
    st.header("すべての数値（Excel）", anchor=False)
    st.caption(
        f"対象: {selection.scope}。総合得点・アセスメント・成熟度・ギャップ・変化・支援優先度・類似団体・参考事例を"
        "シートごとに出力します（各シートの内容と出典・調査時点は「説明」シートにあります）。"
    )
    if st.button("Excelを作成", key="dm_workbook", icon=":material/table:"):
        with st.spinner("作成しています…"):
            st.session_state["dm_workbook_bytes"] = data.cached(workbook_bytes)(selection.flt, selection.round_id)
    if st.session_state.get("dm_workbook_bytes"):
        export.download(
            "ダウンロード",
            st.session_state["dm_workbook_bytes"],
            file_name=f"{style.file_stem('すべての数値', selection.area)}.xlsx",
            mime=export.XLSX_MIME,
            key="dm_workbook_download",
        )

# ---- support menus: the template of a prefecture's own menu, and its upload (validated before it replaces anything)
st.header("支援メニュー（Excel）", anchor=False)
menu_col, upload_col = st.columns(2, gap="medium")
with menu_col:
    menu_pref = st.selectbox("都道府県", names, index=default, key="dm_menu_pref")
    export.download(
        f"{menu_pref}の支援メニューのテンプレートをダウンロード",
        lambda: export.excel_bytes(
            {menus.TEMPLATE_SHEET: menus.menu_template_frame(menu_pref)}, menus.menu_template_notes(menu_pref)
        ),
        file_name=f"{style.file_stem('支援メニュー', menu_pref)}.xlsx",
        mime=export.XLSX_MIME,
        key="dm_menu_template",
    )
    st.caption(
        "今のメニュー（なければ記入例）が入っています。1行 = 1項目。国のメニューは全都道府県に共通で、"
        "ここでは変わりません。"
    )
with upload_col:
    menu_file = (
        st.file_uploader("記入したテンプレートを取り込む", type=["xlsx"], key="dm_menu_upload")
        if access.allowed
        else None
    )
    if menu_file is not None:
        try:
            parsed = menus.parse_menu_workbook(menu_file.getvalue(), menu_pref)
        except DefinitionError as exc:
            st.error(
                f"{menu_pref}の支援メニューは取り込めませんでした（今のメニューはそのままです）。\n\n"
                + "\n".join(f"- {line}" for line in str(exc).splitlines())
            )
        else:
            st.success(f"{menu_pref}の支援メニュー {len(parsed.items)}項目を確認しました。")
            if st.button("このメニューに置き換える", key="dm_menu_accept", icon=":material/check:"):
                menus.save_uploaded_menu(parsed)
                st.success(f"{menu_pref}の支援メニューを置き換えました。支援計画・カルテ・会議資料に反映されます。")
