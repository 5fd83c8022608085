"""Exports of 自治体DX進捗ダッシュボード without a browser: saved views (views.render), PNG images
(exports.images), the PowerPoint deck (exports.pptx_deck), the one-page カルテ (exports.karte).
Command line: ``python -m exports deck|png|karte`` (see exports/__main__.py)."""
