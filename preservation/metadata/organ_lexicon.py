"""Words of Vietnamese organ names, for putting back the diacritics OCR loses in an upper-case
header line ("TỔNG CỤC THUÊ" → "TỔNG CỤC THUẾ").

Upper-case Vietnamese is where Tesseract's ``vie`` model errs most (the marks sit above tall
capitals). The names of state bodies come from a small, closed vocabulary: the kinds of organ,
their fields of work, the provinces. A phrase of this list is put back only when the OCR phrase
reads the same without diacritics, or nearly the same over two words or more, so a name outside
the list is left exactly as read.
"""

from __future__ import annotations

PHRASES: tuple[str, ...] = (
    # kinds of organ (NĐ 30/2020 Phụ lục I; Luật Tổ chức chính quyền địa phương)
    "ỦY BAN NHÂN DÂN", "UBND", "HỘI ĐỒNG NHÂN DÂN", "HĐND", "CHÍNH PHỦ", "THỦ TƯỚNG CHÍNH PHỦ",
    "VĂN PHÒNG", "BỘ", "SỞ", "PHÒNG", "CỤC", "CHI CỤC", "TỔNG CỤC", "VỤ", "VIỆN", "BAN",
    "TRUNG TÂM", "TRƯỜNG", "ĐẠI HỌC", "HỌC VIỆN", "TỈNH ỦY", "THÀNH ỦY", "HUYỆN ỦY", "QUẬN ỦY",
    "ĐẢNG ỦY", "BAN TỔ CHỨC", "BAN TUYÊN GIÁO", "BAN DÂN VẬN", "BAN NỘI CHÍNH",
    "ỦY BAN KIỂM TRA", "TÒA ÁN NHÂN DÂN", "VIỆN KIỂM SÁT NHÂN DÂN", "KIỂM TOÁN NHÀ NƯỚC",
    "THANH TRA", "CÔNG AN", "BỘ CHỈ HUY QUÂN SỰ", "KHO BẠC NHÀ NƯỚC", "BẢO HIỂM XÃ HỘI",
    "NGÂN HÀNG NHÀ NƯỚC", "BỆNH VIỆN", "LIÊN ĐOÀN LAO ĐỘNG", "MẶT TRẬN TỔ QUỐC",
    "ĐOÀN THANH NIÊN", "HỘI", "CÔNG TY", "TẬP ĐOÀN", "NHÀ NƯỚC", "TRUNG ƯƠNG", "LƯU TRỮ LỊCH SỬ",
    "TỈNH", "THÀNH PHỐ", "HUYỆN", "QUẬN", "THỊ XÃ", "XÃ", "PHƯỜNG", "THỊ TRẤN", "ĐẶC KHU",
    # fields of work
    "NỘI VỤ", "TÀI CHÍNH", "TƯ PHÁP", "Y TẾ", "GIÁO DỤC VÀ ĐÀO TẠO", "GIÁO DỤC", "ĐÀO TẠO",
    "KẾ HOẠCH VÀ ĐẦU TƯ", "KẾ HOẠCH", "ĐẦU TƯ", "TÀI NGUYÊN VÀ MÔI TRƯỜNG", "TÀI NGUYÊN",
    "MÔI TRƯỜNG", "NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN", "NÔNG NGHIỆP VÀ MÔI TRƯỜNG",
    "NÔNG NGHIỆP", "PHÁT TRIỂN NÔNG THÔN", "GIAO THÔNG VẬN TẢI", "XÂY DỰNG", "CÔNG THƯƠNG",
    "KHOA HỌC VÀ CÔNG NGHỆ", "KHOA HỌC", "CÔNG NGHỆ", "THÔNG TIN VÀ TRUYỀN THÔNG",
    "VĂN HÓA, THỂ THAO VÀ DU LỊCH", "VĂN HÓA", "THỂ THAO", "DU LỊCH",
    "LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", "LAO ĐỘNG", "THƯƠNG BINH VÀ XÃ HỘI", "NGOẠI VỤ",
    "DÂN TỘC", "TÔN GIÁO", "QUỐC PHÒNG", "NGOẠI GIAO", "THUẾ", "HẢI QUAN", "THỐNG KÊ",
    "VĂN THƯ VÀ LƯU TRỮ", "VĂN THƯ", "LƯU TRỮ", "THI ĐUA - KHEN THƯỞNG", "QUẢN LÝ", "ĐẤT ĐAI",
    "TỔ CHỨC", "CÁN BỘ", "HÀNH CHÍNH", "BÁCH KHOA", "SƯ PHẠM", "KINH TẾ", "NHÂN DÂN",
    # provinces and centrally-run cities (before and after the 2025 merger)
    "HÀ NỘI", "HỒ CHÍ MINH", "HẢI PHÒNG", "ĐÀ NẴNG", "CẦN THƠ", "HUẾ", "THỪA THIÊN HUẾ",
    "AN GIANG", "BÀ RỊA - VŨNG TÀU", "BẮC GIANG", "BẮC KẠN", "BẠC LIÊU", "BẮC NINH", "BẾN TRE",
    "BÌNH ĐỊNH", "BÌNH DƯƠNG", "BÌNH PHƯỚC", "BÌNH THUẬN", "CÀ MAU", "CAO BẰNG", "ĐẮK LẮK",
    "ĐẮK NÔNG", "ĐIỆN BIÊN", "ĐỒNG NAI", "ĐỒNG THÁP", "GIA LAI", "HÀ GIANG", "HÀ NAM", "HÀ TĨNH",
    "HẢI DƯƠNG", "HẬU GIANG", "HÒA BÌNH", "HƯNG YÊN", "KHÁNH HÒA", "KIÊN GIANG", "KON TUM",
    "LAI CHÂU", "LÂM ĐỒNG", "LẠNG SƠN", "LÀO CAI", "LONG AN", "NAM ĐỊNH", "NGHỆ AN", "NINH BÌNH",
    "NINH THUẬN", "PHÚ THỌ", "PHÚ YÊN", "QUẢNG BÌNH", "QUẢNG NAM", "QUẢNG NGÃI", "QUẢNG NINH",
    "QUẢNG TRỊ", "SÓC TRĂNG", "SƠN LA", "TÂY NINH", "THÁI BÌNH", "THÁI NGUYÊN", "THANH HÓA",
    "TIỀN GIANG", "TRÀ VINH", "TUYÊN QUANG", "VĨNH LONG", "VĨNH PHÚC", "YÊN BÁI",
)
