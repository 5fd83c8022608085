"""Benchmarks of 自治体DX進捗ダッシュボード: every hot path against a floor measured in the same run.

``python -m benchmarks [--quick] [--out DIR]``; see benchmarks/README.md for the cases, the
targets and the latest results measured on the development machine.
"""
