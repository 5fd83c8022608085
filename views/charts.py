"""Chart builders shared by the pages, 会議モード and the exports: each takes tidy DataFrames from
``metrics`` and returns a plotly Figure. Pure — no Streamlit — so the same figure can be shown,
written to PNG or put on a slide. Colours come from ``views.style``; missing values are never
plotted as zero (they are left out and counted in the caption or shown as 「データなし」)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from metrics.change import TRENDS
from metrics.definitions import COMPOSITE
from views import style
from views.labels import spread

HEIGHT = 380
# the least distance between two end labels of a slope chart, as a share of the axis: 12 labels of
# a 1366×768 slide's plot (about 330 px) at the projector's 24 px type
SLOPE_LABEL_GAP = 0.075


def _layout(fig: go.Figure, height: int = HEIGHT, title: str | None = None, **kwargs) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        font={"family": style.FONT_FAMILY, "size": 13},
        title={"text": title, "x": 0.0} if title else None,
        hoverlabel={"font": {"family": style.FONT_FAMILY}},
        **kwargs,
    )
    return fig


def distribution(
    values: pd.DataFrame,
    measure: pd.Series,
    reference: float | None = None,
    reference_name: str = "全国の中央値",
    category_shares: pd.DataFrame | None = None,
) -> go.Figure:
    """Histogram of a numeric measure over the selection (missing values left out, their count in
    the title), with a reference line; for binary/category measures a bar per label incl. 「データなし」."""
    kind, unit = measure["kind"], measure["unit"]
    if category_shares is not None:
        colours = style.category_colours(category_shares["label"].tolist())
        fig = go.Figure(
            go.Bar(
                x=category_shares["label"],
                y=category_shares["municipalities"],
                marker_color=[colours[c] for c in category_shares["label"]],
                text=[
                    f"{n:,}（{s:.0f}%）" for n, s in zip(category_shares["municipalities"], category_shares["share"])
                ],
                textposition="outside",
                cliponaxis=False,
                hovertemplate="%{x}: %{y:,}団体<extra></extra>",
            )
        )
        fig.update_yaxes(title_text="団体数")
        return _layout(fig)
    present = values["value"].dropna()
    missing = int(values["value"].isna().sum())
    fig = go.Figure(
        go.Histogram(
            x=present,
            nbinsx=25 if kind != "level" else 5,
            marker_color=style.OKABE_ITO[0],
            opacity=0.85,
            hovertemplate="%{x}: %{y:,}団体<extra></extra>",
        )
    )
    if reference is not None and not pd.isna(reference):
        fig.add_vline(
            x=reference,
            line_dash="dash",
            line_color="#374151",
            annotation_text=f"{reference_name} {style.format_value(reference, kind, unit)}",
            annotation_position="top right",
            annotation_bgcolor="rgba(255,255,255,0.85)",
        )
    fig.update_xaxes(title_text=f"{measure['short_title']}（{style.unit_label(kind, unit) or '値'}）")
    fig.update_yaxes(title_text="団体数")
    title = f"{len(present):,}団体" + (f"（{style.MISSING_LABEL} {missing:,}団体は含まない）" if missing else "")
    return _layout(fig, title=title, bargap=0.05)


def prefecture_ranking(
    ranking: pd.DataFrame, measure: pd.Series, highlight: str | None = None, national: float | None = None
) -> go.Figure:
    """Horizontal bars of the prefectures' statistic, best at the top, the chosen prefecture
    highlighted and the national value as a dashed line; names stay horizontal and readable."""
    kind, unit = measure["kind"], measure["unit"]
    statistic = ranking["statistic"].iloc[0] if len(ranking) else ""
    shown = ranking.dropna(subset=["value"])
    colours = [style.OKABE_ITO[5] if p == highlight else style.OKABE_ITO[0] for p in shown["pref_code"]]
    fig = go.Figure(
        go.Bar(
            y=[f"{int(r)}. {n}" for r, n in zip(shown["rank"], shown["pref_name"])],
            x=shown["value"],
            orientation="h",
            marker_color=colours,
            customdata=np.stack([shown["with_data"], shown["municipalities"]], axis=1),
            hovertemplate="%{y}<br>"
            + statistic
            + " %{x:.1f}<br>データあり %{customdata[0]}/%{customdata[1]}団体<extra></extra>",
        )
    )
    if national is not None and not pd.isna(national):
        fig.add_vline(
            x=national,
            line_dash="dash",
            line_color="#374151",
            annotation_text=f"全国 {style.format_statistic(national, statistic, kind, unit)}",
            annotation_position="bottom right",  # the axis is on top: its numbers would sit under the label
            annotation_bgcolor="rgba(255,255,255,0.85)",
        )
    # every name whole on one line: the left margin grows to the longest label (automargin)
    fig.update_yaxes(autorange="reversed", tickfont={"size": 12}, dtick=1, automargin=True)
    fig.update_xaxes(title_text=f"{statistic}（{style.unit_label(kind, unit, statistic) or '値'}）", side="top")
    return _layout(fig, height=18 * len(shown) + 110, bargap=0.25)


def radar(series: dict[str, pd.Series], fields: list[str]) -> go.Figure:
    """Field scores (0–100) of one or more sheets on a radar; ``series``: name → scores by field."""
    fig = go.Figure()
    palette = [style.OKABE_ITO[0], style.OKABE_ITO[1], "#6b7280", *style.OKABE_ITO[2:]]
    for (name, scores), colour in zip(series.items(), palette * 2):
        values = [scores.get(f, np.nan) for f in fields]
        fig.add_trace(
            go.Scatterpolar(
                r=values + values[:1],
                theta=fields + fields[:1],
                name=name,
                line={"color": colour, "width": 2.5},
                fill="toself" if colour == palette[0] else None,
                opacity=0.9,
                hovertemplate="%{theta}: %{r:.1f}点<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        polar={
            "radialaxis": {"range": [0, 100], "tickvals": [25, 50, 75, 100], "tickfont": {"size": 10}},
            "angularaxis": {"tickfont": {"size": 14}},
        },
        legend={"orientation": "h", "y": -0.1},
    )
    return _layout(fig, height=420, title=None).update_layout(margin={"l": 40, "r": 40, "t": 40, "b": 20})


def heat_table(matrix: pd.DataFrame, value_name: str = "得点", zmax: float = 100.0, fmt: str = "{:.0f}") -> go.Figure:
    """A stage × field table as a heat map with the numbers written in (the 和歌山 sheet); NaN
    cells stay blank with 「—」."""
    z = matrix.to_numpy(dtype=float)
    text = [[("—" if np.isnan(v) else fmt.format(v)) for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(matrix.columns),
            y=list(matrix.index),
            text=text,
            texttemplate="%{text}",
            textfont={"size": 15},
            colorscale=style.SEQUENTIAL,
            zmin=0,
            zmax=zmax,
            xgap=2,
            ygap=2,
            colorbar={"title": {"text": value_name}, "thickness": 12},
            hovertemplate="%{y} × %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top")
    return _layout(fig, height=330)


def peer_comparison(table: pd.DataFrame, own_name: str, peer_name: str) -> go.Figure:
    """Binary indicators: the peers' share 実施 (bar) and the municipality's own answer (marker);
    ``table``: short_title, value (0/1), peer_share (%), national_share (%)."""
    order = table.sort_values("peer_share")
    own = order["value"].map({1.0: "実施", 0.0: "未実施"}).fillna(style.MISSING_LABEL)
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=order["short_title"],
            x=order["peer_share"],
            orientation="h",
            name=f"{peer_name}の実施率",
            marker_color="#9ecae1",
            hovertemplate="%{y}: %{x:.0f}%<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=order["short_title"],
            x=order["national_share"],
            mode="markers",
            name="全国の実施率",
            marker={"symbol": "line-ns-open", "size": 16, "color": "#374151", "line": {"width": 2}},
            hovertemplate="全国 %{x:.0f}%<extra></extra>",
        )
    )
    colours = own.map(style.category_colours(["実施", "未実施", style.MISSING_LABEL]))
    fig.add_trace(
        go.Scatter(
            y=order["short_title"],
            x=[102] * len(order),
            mode="markers+text",
            name=own_name,
            text=own,
            textposition="middle right",
            marker={"size": 12, "color": colours},
            hovertemplate="%{y}: %{text}<extra>" + own_name + "</extra>",
        )
    )
    fig.update_xaxes(range=[0, 125], tickvals=[0, 25, 50, 75, 100], ticksuffix="%", title_text="実施率")
    return _layout(
        fig, height=max(300, 32 * len(order) + 80), legend={"orientation": "h", "y": -0.15}, barmode="overlay"
    )


def history(scores: pd.DataFrame, round_labels: dict[str, str]) -> go.Figure:
    """Scores of one municipality across rounds: overall and each stage (0–100)."""
    fig = go.Figure()
    palette = iter(style.OKABE_ITO)
    for name, part in scores.groupby("series", sort=False):
        colour = next(palette)
        fig.add_trace(
            go.Scatter(
                x=[style.short_round_label(round_labels.get(r, r)) for r in part["round_id"]],
                y=part["score"],
                mode="lines+markers+text" if name == COMPOSITE else "lines+markers",
                name=name,
                line={"color": colour, "width": 3.5 if name == COMPOSITE else 1.6},
                text=[f"{v:.0f}" for v in part["score"]],
                textposition="top center",
                textfont={"size": 14},
                hovertemplate="%{x}: %{y:.1f}点<extra>" + name + "</extra>",
            )
        )
    fig.update_yaxes(range=[0, 105], title_text="得点")
    return _layout(fig, height=360, legend={"orientation": "h", "y": -0.2})


def scatter(
    frame: pd.DataFrame,
    x: str,
    y: str,
    x_title: str,
    y_title: str,
    bands: list[str],
    log_x: bool = False,
    highlight: list[str] | None = None,
) -> go.Figure:
    """Any two measures, one dot per municipality, coloured by population band; the comparison
    set labelled. ``frame``: name, pref_name, pop_band, x, y (rows with a missing value left out)."""
    fig = go.Figure()
    data = frame.dropna(subset=[x, y])
    for band, colour in zip(bands, style.BAND_COLOURS):
        part = data[data["pop_band"] == band]
        if len(part):
            fig.add_trace(
                go.Scattergl(
                    x=part[x],
                    y=part[y],
                    mode="markers",
                    name=band,
                    marker={"color": colour, "size": 7, "opacity": 0.75},
                    text=part["pref_name"] + " " + part["name"],
                    hovertemplate="%{text}<br>"
                    + x_title
                    + ": %{x:,.1f}<br>"
                    + y_title
                    + ": %{y:,.1f}<extra>"
                    + band
                    + "</extra>",
                )
            )
    if highlight:
        part = data[data["code"].isin(highlight)]
        fig.add_trace(
            go.Scatter(
                x=part[x],
                y=part[y],
                mode="markers+text",
                name="比較セット",
                text=part["name"],
                textposition="top center",
                marker={"size": 13, "color": "rgba(0,0,0,0)", "line": {"color": style.OKABE_ITO[5], "width": 2.5}},
            )
        )
    if log_x:
        # 1万・10万・100万 rather than 10k / 100k / 1M
        ticks = [10**n for n in range(2, 8)]
        labels = ["100", "1千", "1万", "10万", "100万", "1000万"]
        fig.update_xaxes(type="log", tickvals=ticks, ticktext=labels)
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return _layout(fig, height=460, legend={"title": {"text": "人口規模"}})


def box_by_band(frame: pd.DataFrame, y: str, y_title: str, bands: list[str]) -> go.Figure:
    """Distribution of a measure per population band (box with all points)."""
    fig = go.Figure()
    for band, colour in zip(bands, style.BAND_COLOURS):
        part = frame[(frame["pop_band"] == band) & frame[y].notna()]
        fig.add_trace(
            go.Box(
                y=part[y],
                name=f"{band}（{len(part)}）",
                marker_color=colour,
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"size": 4, "opacity": 0.6},
                text=part["name"],
                hovertemplate="%{text}: %{y:,.1f}<extra></extra>",
            )
        )
    fig.update_yaxes(title_text=y_title)
    return _layout(fig, height=420, showlegend=False)


def cross_table_bars(table: pd.DataFrame) -> go.Figure:
    """The 兵庫-style cross-table as stacked bars (rows = population bands, totals left out)."""
    body = table.drop(index="計", columns="計", errors="ignore")
    colours = style.category_colours([str(c) for c in body.columns])
    fig = go.Figure()
    for column in body.columns:
        fig.add_trace(
            go.Bar(
                x=body.index.astype(str),
                y=body[column],
                name=str(column),
                marker_color=colours[str(column)],
                hovertemplate="%{x}: %{y}団体<extra>" + str(column) + "</extra>",
            )
        )
    fig.update_yaxes(title_text="団体数")
    return _layout(fig, height=380, barmode="stack", legend={"orientation": "h", "y": -0.2})


def indicator_heatmap(matrix: pd.DataFrame, text: pd.DataFrame, value_title: str = "達成度（0〜1）") -> go.Figure:
    """Municipalities (rows) × indicators (columns), coloured 0–1, the raw values as hover text;
    missing cells stay empty (drawn grey behind the grid)."""
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(dtype=float),
            x=list(matrix.columns),
            y=list(matrix.index),
            text=text.to_numpy(),
            colorscale=style.SEQUENTIAL,
            zmin=0,
            zmax=1,
            xgap=1,
            ygap=1,
            hoverongaps=False,
            colorbar={"title": {"text": value_title}, "thickness": 12},
            hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", tickfont={"size": 11})
    fig.update_xaxes(side="top", tickangle=-45, tickfont={"size": 11})
    fig.update_layout(plot_bgcolor=style.MISSING_HEX)
    return _layout(fig, height=max(320, 22 * len(matrix) + 160))


def slope(frame: pd.DataFrame, base_label: str, eval_label: str) -> go.Figure:
    """Baseline → evaluation per municipality (``frame``: name, base_score, eval_score, trend_label);
    the end labels 「84 洲本市」 spread apart (views.labels.spread) so that none sits on another."""
    fig = go.Figure()
    colours = style.category_colours(list(TRENDS.values()))
    for row in frame.itertuples():
        colour = colours.get(row.trend_label, style.MISSING_HEX)
        fig.add_trace(
            go.Scatter(
                x=[base_label, eval_label],
                y=[row.base_score, row.eval_score],
                mode="lines+markers",
                line={"color": colour, "width": 2},
                marker={"size": 8},
                showlegend=False,
                hovertemplate=f"{row.name}: %{{y:.1f}}点<extra>{row.trend_label}</extra>",
            )
        )
    for label in ("改善", "停滞", "後退"):
        fig.add_trace(
            go.Scatter(x=[None], y=[None], mode="lines", line={"color": colours[label], "width": 3}, name=label)
        )
    scores = pd.concat([frame["base_score"], frame["eval_score"]]).dropna()
    low, high = (float(scores.min()), float(scores.max())) if len(scores) else (0.0, 100.0)
    pad = max((high - low) * 0.06, 1.0)
    low, high = low - pad, high + pad
    ends = frame.dropna(subset=["eval_score"])
    placed = spread(ends["eval_score"].tolist(), (high - low) * SLOPE_LABEL_GAP, low, high)
    for row, y in zip(ends.itertuples(), placed):
        fig.add_annotation(
            x=eval_label,
            y=y,
            text=f"{row.eval_score:.0f} {row.name}",
            showarrow=False,
            xanchor="left",
            xshift=10,
            font={"size": 12, "color": "#111827"},
        )
    fig.update_yaxes(title_text="得点", range=[low, high])
    fig.update_xaxes(range=[-0.15, 1.55])
    # the legend above the plot: below it, it ran into the axis labels
    return _layout(
        fig,
        height=max(420, 24 * len(frame)),
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )


def transition(table: pd.DataFrame, base_label: str, eval_label: str) -> go.Figure:
    """Maturity transition matrix (counts; rows = baseline level, columns = evaluation level);
    the diagonal (unchanged) outlined in the hover, improvement above it."""
    body = table.drop(index="計", columns="計", errors="ignore")
    z = body.to_numpy(dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(c) for c in body.columns],
            y=[str(i) for i in body.index],
            text=z.astype(int),
            texttemplate="%{text}",
            textfont={"size": 14},
            colorscale="Blues",
            xgap=2,
            ygap=2,
            showscale=False,
            hovertemplate=base_label + " %{y} → " + eval_label + " %{x}: %{z:.0f}団体<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", title_text=f"{base_label}の成熟度")
    fig.update_xaxes(side="top", title_text=f"{eval_label}の成熟度")
    return _layout(fig, height=340)


def support_items(counts: pd.DataFrame) -> go.Figure:
    """How many municipalities each support-menu item is recommended to, stacked by priority."""
    totals = counts.groupby("name", sort=False)["municipalities"].sum()
    order = totals.sort_values().index.tolist()
    fig = go.Figure()
    for level in ("高", "中", "低", "判定不可"):
        part = counts[counts["priority"] == level].set_index("name").reindex(order)
        if part["municipalities"].sum() == 0:
            continue
        fig.add_trace(
            go.Bar(
                y=order,
                x=part["municipalities"],
                orientation="h",
                name=f"支援優先度 {level}",
                marker_color=style.PRIORITY_COLOURS[level],
                hovertemplate="%{y}: %{x}団体<extra>" + level + "</extra>",
            )
        )
    fig.update_xaxes(title_text="推奨する団体数")
    # the legend above the bars: below them it ran into the axis title on short menus
    return _layout(
        fig,
        height=max(320, 28 * len(order) + 110),
        barmode="stack",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "traceorder": "normal"},
    )


def grouped_bars(frame: pd.DataFrame, label: str, columns: list[str], y_title: str = "得点") -> go.Figure:
    """One group of bars per row of ``frame`` (e.g. a municipality), one bar per column (e.g. the
    pillars); missing values leave a gap, never a zero bar."""
    fig = go.Figure()
    for column, colour in zip(columns, style.OKABE_ITO * 2):
        fig.add_trace(
            go.Bar(
                x=frame[label],
                y=frame[column],
                name=column,
                marker_color=colour,
                hovertemplate="%{x}: %{y:.1f}<extra>" + column + "</extra>",
            )
        )
    fig.update_yaxes(title_text=y_title, range=[0, 100])
    return _layout(fig, height=400, barmode="group", legend={"orientation": "h", "y": -0.18})


def municipality_ranking(
    frame: pd.DataFrame, measure: pd.Series, reference: float | None = None, reference_name: str = "全国の中央値"
) -> go.Figure:
    """Horizontal bars of the municipalities of a selection, best at the top (``frame``: name,
    value, already ordered and without missing values), each bar labelled with its value, the
    national reference as a dashed line."""
    kind, unit = measure["kind"], measure["unit"]
    fig = go.Figure(
        go.Bar(
            y=frame["name"],
            x=frame["value"],
            orientation="h",
            marker_color=style.OKABE_ITO[0],
            text=[style.format_value(v, kind, unit) for v in frame["value"]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    if reference is not None and not pd.isna(reference):
        fig.add_vline(
            x=reference,
            line_dash="dash",
            line_color="#374151",
            annotation_text=f"{reference_name} {style.format_value(reference, kind, unit)}",
            annotation_position="bottom right",
            annotation_bgcolor="rgba(255,255,255,0.85)",
        )
    fig.update_yaxes(autorange="reversed", dtick=1, automargin=True)
    fig.update_xaxes(title_text=f"{measure['short_title']}（{style.unit_label(kind, unit) or '値'}）", side="top")
    values = frame["value"].dropna()
    if len(values) and values.min() >= 0 and values.max() > 0:
        # room right of the longest bar for its value label (drawn outside the bar)
        fig.update_xaxes(range=[0, float(values.max()) * 1.15])
    return _layout(fig, height=max(300, 22 * len(frame) + 110), bargap=0.25)


# Sizes per display: 「projector」 is read from the back of a meeting room (≥ 24 px body, ≥ 32 px
# titles), 「print」 is a paper or slide at its printed size.
THEMES = {
    "screen": {"body": 13, "title": 18, "marker": 1.0, "line": 1.0},
    "print": {"body": 16, "title": 22, "marker": 1.2, "line": 1.3},
    "projector": {"body": 24, "title": 32, "marker": 1.8, "line": 2.0},
}


def themed(fig: go.Figure, theme: str = "screen") -> go.Figure:
    """``fig`` with the fonts, markers and lines of a display theme (see THEMES); the builders'
    own sizes are the 「screen」 theme, so that theme changes nothing."""
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}, got {theme!r}")
    if theme == "screen":
        return fig
    sizes = THEMES[theme]
    body = sizes["body"]
    fig.update_layout(
        font={"size": body},
        title_font={"size": sizes["title"]},
        legend_font={"size": body},
        hoverlabel_font={"size": body},
    )
    fig.update_xaxes(tickfont={"size": body}, title_font={"size": body})
    fig.update_yaxes(tickfont={"size": body}, title_font={"size": body})
    fig.update_polars(angularaxis_tickfont={"size": body}, radialaxis_tickfont={"size": body - 4})
    for annotation in fig.layout.annotations:
        annotation.font.size = body
    for trace in fig.data:
        if "textfont" in trace:
            trace.textfont.size = body
        marker = getattr(trace, "marker", None)
        if marker is not None and "size" in marker and isinstance(marker.size, (int, float)):
            marker.size = marker.size * sizes["marker"]
        line = getattr(trace, "line", None)
        if line is not None and "width" in line and isinstance(line.width, (int, float)):
            line.width = line.width * sizes["line"]
        if getattr(trace, "type", None) in ("heatmap", "choropleth") and trace.colorbar is not None:
            trace.colorbar.tickfont.size = body
            trace.colorbar.title.font.size = body
    return fig


def _axis_title(fig: go.Figure, axis: str, fallback: str) -> str:
    title = getattr(getattr(fig.layout, axis, None), "title", None)
    return (title.text if title is not None and title.text else None) or fallback


def _is_numeric(values) -> bool:
    series = pd.Series(list(values) if values is not None else [], dtype="object").dropna()
    return len(series) > 0 and pd.to_numeric(series, errors="coerce").notna().all()


def _clean(values) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in list(values)]


def figure_table(fig: go.Figure) -> pd.DataFrame:
    """The values a chart draws, as a table (the text alternative shown beside each chart, WCAG 1.1.1):
    heat maps as their grid, bars and lines one row per category and one column per series, a
    scatter one row per point, boxes their five numbers, histograms their counts per class, maps one
    row per municipality. Labels are the chart's own (axis titles, series names, written values)."""
    grids, rows, points, boxes, classes, places = [], [], [], [], [], []
    for trace in fig.data:
        kind = trace.type
        names = trace.name or "値"
        text = list(trace.text) if isinstance(trace.text, (list, tuple, np.ndarray)) else None
        hover = trace.hovertemplate or ""
        if kind == "heatmap":
            values = np.asarray(trace.z, dtype=object)
            if text is not None and np.asarray(text, dtype=object).shape == values.shape:
                values = np.asarray(text, dtype=object)
            grid = pd.DataFrame(values, index=list(trace.y), columns=list(trace.x))
            grids.append(grid.rename_axis(_axis_title(fig, "yaxis", "項目")).reset_index())
        elif kind in ("choropleth", "scattergeo"):
            for label in text or []:
                name, _, value = str(label).partition("<br>")
                places.append({"団体": name, "値": value})
        elif kind == "box":
            values = pd.to_numeric(pd.Series(trace.y), errors="coerce").dropna()
            if len(values):
                boxes.append(
                    {
                        "区分": names,
                        "団体数": len(values),
                        "最小": values.min(),
                        "第1四分位": values.quantile(0.25),
                        "中央値": values.median(),
                        "第3四分位": values.quantile(0.75),
                        "最大": values.max(),
                    }
                )
        elif kind == "histogram":
            values = pd.to_numeric(pd.Series(trace.x), errors="coerce").dropna()
            if len(values):
                counts, edges = np.histogram(values, bins=min(int(trace.nbinsx or 20), max(len(set(values)), 1)))
                title = _axis_title(fig, "xaxis", "値")
                classes += [
                    {title: f"{lo:,.1f}〜{hi:,.1f}", "団体数": int(n)} for lo, hi, n in zip(edges, edges[1:], counts)
                ]
        elif kind == "scatterpolar":
            theta, r = list(trace.theta), _clean(trace.r)
            seen = set()
            for category, value in zip(theta, r):
                if category not in seen:
                    seen.add(category)
                    rows.append({"category": category, "series": names, "value": value})
        elif kind in ("bar", "scatter", "scattergl"):
            x, y = _clean(trace.x if trace.x is not None else []), _clean(trace.y if trace.y is not None else [])
            if not any(v is not None for v in x + y):
                continue  # a legend entry only
            if kind != "bar" and _is_numeric(x) and _is_numeric(y):
                x_title, y_title = _axis_title(fig, "xaxis", "横軸"), _axis_title(fig, "yaxis", "縦軸")
                for index, (a, b) in enumerate(zip(x, y)):
                    points.append({"団体": text[index] if text else "", x_title: a, y_title: b, "系列": names})
                continue
            horizontal = trace.orientation == "h" or (kind != "bar" and _is_numeric(x) and not _is_numeric(y))
            categories, values = (y, x) if horizontal else (x, y)
            if text is not None and "%{text}" in hover and len(text) == len(values):
                values = text
            for category, value in zip(categories, values):
                rows.append({"category": category, "series": names, "value": value})
    tables = grids + ([pd.DataFrame(points)] if points else []) + ([pd.DataFrame(boxes)] if boxes else [])
    tables += ([pd.DataFrame(classes)] if classes else []) + ([pd.DataFrame(places)] if places else [])
    if rows:
        long = pd.DataFrame(rows)
        series = list(dict.fromkeys(long["series"]))
        wide = long.pivot_table(index="category", columns="series", values="value", aggfunc="first", sort=False)
        wide = wide.reindex(index=list(dict.fromkeys(long["category"])), columns=series)
        horizontal_axis = "yaxis" if any(t.orientation == "h" for t in fig.data if t.type == "bar") else "xaxis"
        tables.append(wide.rename_axis(index=_axis_title(fig, horizontal_axis, "項目"), columns=None).reset_index())
    if not tables:
        return pd.DataFrame()
    return tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)
