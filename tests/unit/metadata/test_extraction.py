"""The extractor on hand-written OCR texts: clean, noisy and hostile."""

from __future__ import annotations

import random
import time

import pytest

from preservation.metadata.extraction import Proposal, extract, plain

QUYET_DINH = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
THÀNH PHỐ ĐÀ NẴNG Độc lập - Tự do - Hạnh phúc

Số: 12/QĐ-UBND Đà Nẵng, ngày 05 tháng 3 năm 2024

QUYẾT ĐỊNH
Về việc ban hành Quy chế công tác văn thư, lưu trữ
của Ủy ban nhân dân thành phố

CHỦ TỊCH ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG

Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;
Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ;
"""

CONG_VAN = """UBND TỈNH QUẢNG NAM
SỞ NỘI VỤ
Số: 3820/SNV-TCBC
V/v triển khai số hóa tài liệu
lưu trữ năm 2025
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Quảng Nam, ngày 27 tháng 5 năm 2025

Kính gửi: Các sở, ban, ngành thuộc tỉnh
"""


def test_a_clean_quyet_dinh_gives_every_field_with_its_line() -> None:
    p = extract(QUYET_DINH)
    assert p.values() == {
        "typeName": "02", "codeNumber": "12", "codeNotation": "QĐ-UBND",
        "issuedDate": "05/03/2024", "organName": "ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG",
        "subject": "Về việc ban hành Quy chế công tác văn thư, lưu trữ của Ủy ban nhân dân "
                   "thành phố"}
    assert p.typeName.confidence >= 0.95  # type line and ký hiệu agree
    assert p.issuedDate.evidence is not None and "Đà Nẵng, ngày 05" in p.issuedDate.evidence
    assert p.codeNumber.evidence is not None and p.codeNumber.evidence.startswith("Số: 12/")


def test_a_cong_van_has_no_type_line_but_its_v_v() -> None:
    p = extract(CONG_VAN)
    assert p.typeName.value == "22"
    assert p.codeNotation.value == "SNV-TCBC"
    assert p.organName.value == "SỞ NỘI VỤ"
    assert p.subject.value == "V/v triển khai số hóa tài liệu lưu trữ năm 2025"
    assert p.issuedDate.value == "27/05/2025"


def test_ocr_noise_lost_diacritics_o_for_zero_and_l_for_one() -> None:
    noisy = """UBND TINH QUANG NAM CONG HOA XA HOI CHU NGHIA VIET NAM
SO NOI VU Doc lap - Tu do - Hanh phuc
S0: l2O/QD- SNV
Quang Nam, ngay O5 thang l1 nam 2O19
QUYET DINH
Ve viec kien toan Hoi dong thi dua
"""
    p = extract(noisy)
    assert p.codeNumber.value == "120"
    assert p.codeNotation.value == "QĐ-SNV"  # the type line says which abbreviation
    assert p.issuedDate.value == "05/11/2019"
    assert p.typeName.value == "02"
    assert p.organName.value == "SỞ NỘI VỤ"  # diacritics put back from the organ lexicon
    assert p.subject.value == "Ve viec kien toan Hoi dong thi dua"


def test_merged_columns_and_a_name_broken_over_two_lines() -> None:
    text = """BỘ NỘI VỤ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
CỤC VĂN THƯ VÀ LƯU TRỮ Độc lập - Tự do - Hạnh phúc
NHÀ NƯỚC “vn nha... .
Số: 779/VTLTNN-VP
V/v kiện toàn công tác văn thư, Hà Nội, ngày 21 tháng 9 năm 2017
lưu trữ năm 2017
"""
    p = extract(text)
    assert p.organName.value == "CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC"
    assert p.subject.value == "V/v kiện toàn công tác văn thư, lưu trữ năm 2017"
    assert p.issuedDate.value == "21/09/2017"


def test_a_skewed_scan_whose_type_line_lost_letters_still_matches_the_code_list() -> None:
    text = "SỞ Y TẾ\nSố: 5/KH-SYT\nKhánh Hòa, ngày 1 tháng 12 năm 2020\nKE HOACH\nPhòng chống dịch"
    p = extract(text)
    assert p.typeName.value == "10"
    assert extract(text.replace("KE HOACH", "KẾ H0ẠCH")).typeName.value == "10"


@pytest.mark.parametrize("text", ["", "   \n\n\t", "\x00\x01\x02"])
def test_empty_text_proposes_nothing(text: str) -> None:
    p = extract(text)
    assert p == Proposal()
    assert all(v is None for v in p.values().values())
    assert all(f["confidence"] == 0 for f in p.as_dict().values())


def test_a_megabyte_of_garbage_is_quick_and_proposes_no_date_or_number() -> None:
    rng = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyzĐđăâêôơư0123456789 /-:.,\n"
    garbage = "".join(rng.choice(alphabet) for _ in range(1_000_000))
    t0 = time.perf_counter()
    p = extract(garbage)
    assert time.perf_counter() - t0 < 5
    assert p.typeName.value is None and p.issuedDate.value is None


def test_no_date_leaves_the_date_empty_and_keeps_the_rest() -> None:
    text = QUYET_DINH.replace("Đà Nẵng, ngày 05 tháng 3 năm 2024", "").split("Căn cứ")[0]
    p = extract(text)
    assert p.issuedDate.value is None and p.issuedDate.confidence == 0
    assert p.codeNumber.value == "12"


def test_a_body_date_is_never_taken_for_the_issue_date_when_the_header_one_is_unreadable() -> None:
    text = QUYET_DINH.replace("ngày 05 tháng 3 năm 2024", "ngày 37 tháng 3 năm 2024")
    p = extract(text)
    assert p.issuedDate.value is None
    assert p.issuedDate.evidence is not None and "ngày 37" in p.issuedDate.evidence


def test_two_so_lines_take_the_first_and_lower_the_confidence() -> None:
    text = QUYET_DINH.replace("Số: 12/QĐ-UBND", "Số: 12/QĐ-UBND\nSố: 99/TB-UBND")
    p = extract(text)
    assert p.codeNumber.value == "12"
    assert p.codeNumber.confidence < extract(QUYET_DINH).codeNumber.confidence


def test_a_body_reference_is_not_the_documents_number() -> None:
    text = "SỞ NỘI VỤ\nCăn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020;"
    p = extract(text)
    assert p.codeNumber.value is None and p.codeNotation.value is None
    assert p.issuedDate.confidence <= 0.3  # a body date, said to be one


def test_non_vietnamese_text_proposes_nothing_of_substance() -> None:
    text = ("The quick brown fox jumps over the lazy dog.\nLorem ipsum dolor sit amet.\n"
            "Invoice No. 12/2024 dated 5 March 2024\n中华人民共和国 国务院\n")
    p = extract(text)
    assert p.typeName.value is None and p.codeNumber.value is None
    assert p.issuedDate.value is None and p.subject.value is None


def test_known_organs_snap_a_near_name_and_leave_a_far_one() -> None:
    text = "TONG CUC THUE\nSố: 1/TB-TCT\nHà Nội, ngày 2 tháng 1 năm 2020\nTHÔNG BÁO\nLịch nghỉ"
    assert extract(text, ["Tổng cục Thuế"]).organName.value == "Tổng cục Thuế"
    assert extract(text, ["Bộ Quốc phòng"]).organName.value == "TỔNG CỤC THUẾ"


def test_the_year_form_of_a_notation_keeps_the_year() -> None:
    text = "UBND TỈNH NGHỆ AN\nSố: 15/2024/QĐ-UBND\nNghệ An, ngày 3 tháng 4 năm 2024\nQUYẾT ĐỊNH"
    p = extract(text)
    assert (p.codeNumber.value, p.codeNotation.value) == ("15", "2024/QĐ-UBND")


def test_plain_keeps_one_character_per_character() -> None:
    text = "Đà Nẵng, ngày Ð ỦY BAN"
    assert len(plain(text)) == len(text)
    assert plain("ĐỘC LẬP") == "doc lap"


def test_a_place_name_outside_the_lexicon_keeps_its_short_syllables() -> None:
    text = ("ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
            "HUYỆN CHƯ SÊ Độc lập - Tự do - Hạnh phúc\n"
            "S6: 7/UBND-VP\nChư Sê, ngày 9 tháng 9 năm 2022\nV/v lịch tiếp dân")
    p = extract(text)
    assert p.organName.value == "ỦY BAN NHÂN DÂN HUYỆN CHƯ SÊ"
    assert (p.codeNumber.value, p.codeNotation.value) == ("7", "UBND-VP")  # "Số" read as "S6"


def test_a_stain_read_as_capitals_under_the_name_is_not_part_of_it() -> None:
    text = "UBND THÀNH PHỐ ĐÀ NẴNG\nSỞ TÀI CHÍNH\n+. VI TS “SÉ - IMCO\nSố: 3/TB-STC"
    assert extract(text).organName.value == "SỞ TÀI CHÍNH"


def test_the_notation_takes_the_organs_initials_without_diacritics_but_d_stroke() -> None:
    text = "UBND TỈNH NGHỆ AN\nSỞ GIÁO DỤC VÀ ĐÀO TẠO\nSố: 8/KH-SGDDT\nKẾ HOẠCH\nTuyển sinh"
    assert extract(text).codeNotation.value == "KH-SGDĐT"
    text = "ỦY BAN NHÂN DÂN\nTỈNH NGHỆ AN\nSố: 8/KH-UBND\nKẾ HOẠCH\nTuyển sinh"
    assert extract(text).codeNotation.value == "KH-UBND"
