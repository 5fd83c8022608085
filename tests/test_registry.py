"""Municipality registry: codes, check digits, 団体区分, name resolution."""

import pytest

from loaders.errors import LoaderError, Report
from loaders.registry import check_digit, code6_from_code5


def test_registry_has_every_municipality_with_valid_codes(registry):
    frame = registry.municipalities
    assert len(frame) == 1741
    assert frame.code.is_unique
    assert all(code6_from_code5(c5) == c6 for c5, c6 in zip(frame.code5, frame.code))
    assert frame.code.is_monotonic_increasing


def test_check_digit_examples_from_data_md():
    assert code6_from_code5("01100") == "011002"
    assert code6_from_code5("13101") == "131016"
    assert check_digit("13000") == "1"


def test_types_follow_the_committed_table(registry):
    counts = registry.municipalities.type.value_counts().to_dict()
    assert counts == {"町": 743, "一般市": 710, "村": 183, "中核市": 62, "特別区": 23, "政令市": 20}
    by_name = dict(zip(registry.municipalities.name, registry.municipalities.type))
    assert by_name["神戸市"] == "政令市" and by_name["姫路市"] == "中核市" and by_name["千代田区"] == "特別区"


def test_codes_with_lost_zeros_and_wards_map_to_the_city(registry):
    assert registry.code_from_any("1100") == "011002"  # 5-digit with the leading zero lost
    assert registry.code_from_any("11002") == "011002"  # 6-digit with the leading zero lost
    assert registry.code_from_any("01101") == "011002"  # 札幌市中央区 → 札幌市
    assert registry.code_from_any("28100") == "281000"  # 神戸市
    assert registry.code_from_any("99999") is None
    assert registry.code_from_any("abc") is None


def test_duplicated_names_resolve_by_order_and_unknown_names_are_reported(registry):
    report = Report()
    codes = registry.resolve_columns(["伊達市", "架空村", "伊達市"], "x.csv", 2, report)
    assert codes == ["012335", None, "072133"]
    assert report.unresolved[0]["name"] == "架空村"


def test_out_of_order_duplicates_are_not_guessed(registry):
    with pytest.raises(LoaderError, match="団体コード順"):
        registry.resolve_columns(["福島市", "伊達市", "札幌市"], "x.csv", 2, Report())
