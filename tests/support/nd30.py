"""Synthetic Vietnamese administrative documents laid out as NĐ 30/2020/NĐ-CP Phụ lục I shows them,
rendered to page images (and degraded like a poor scan), for the metadata-extraction evaluation
(``bench/bench_extraction.py``) and its small real-OCR test.

Everything is drawn from one seed, so a seed names a corpus: the benchmark keeps a development
seed (the one the extractor's rules were written against) apart from the evaluation seed.
The expected values are what an archivist would copy from the page: ``typeName`` code, số,
ký hiệu (what follows the first ``/``), date as ``DD/MM/YYYY``, the issuing body as printed
(its lines joined by one space), the trích yếu as printed.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = {
    "dejavu": ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf"),
    "liberation": ("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
                   "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
                   "/usr/share/fonts/truetype/liberation2/LiberationSerif-Italic.ttf"),
}

# (cơ quan chủ quản, cơ quan ban hành (lines), its abbreviation in ký hiệu, place, units)
ORGANS: tuple[tuple[str, tuple[str, ...], str, str, tuple[str, ...]], ...] = (
    ("", ("ỦY BAN NHÂN DÂN", "THÀNH PHỐ ĐÀ NẴNG"), "UBND", "Đà Nẵng", ("VP", "KT", "NC")),
    ("UBND TỈNH QUẢNG NAM", ("SỞ NỘI VỤ",), "SNV", "Quảng Nam", ("TCBC", "VP", "CCVC")),
    ("", ("BỘ NỘI VỤ",), "BNV", "Hà Nội", ("VTLT", "TCBC", "CQĐP")),
    ("BỘ NỘI VỤ", ("CỤC VĂN THƯ VÀ LƯU TRỮ", "NHÀ NƯỚC"), "VTLTNN", "Hà Nội", ("NVTW", "VP")),
    ("UBND THÀNH PHỐ ĐÀ NẴNG", ("SỞ TÀI CHÍNH",), "STC", "Đà Nẵng", ("QLNS", "VP")),
    ("UBND TỈNH NGHỆ AN", ("SỞ GIÁO DỤC VÀ ĐÀO TẠO",), "SGDĐT", "Nghệ An", ("GDTrH", "VP")),
    ("UBND HUYỆN HÒA VANG", ("PHÒNG TÀI NGUYÊN VÀ", "MÔI TRƯỜNG"), "TNMT", "Hòa Vang",
     ("ĐĐ", "MT")),
    ("", ("HỘI ĐỒNG NHÂN DÂN", "TỈNH THỪA THIÊN HUẾ"), "HĐND", "Thừa Thiên Huế", ("VP",)),
    ("BỘ TÀI CHÍNH", ("TỔNG CỤC THUẾ",), "TCT", "Hà Nội", ("CS", "KK", "TTHT")),
    ("UBND TỈNH KHÁNH HÒA", ("SỞ Y TẾ",), "SYT", "Khánh Hòa", ("NVY", "KHTC")),
    ("", ("UBND TỈNH BÌNH ĐỊNH",), "UBND", "Bình Định", ("KT", "VX", "TH")),
    ("UBND QUẬN HẢI CHÂU", ("PHÒNG NỘI VỤ",), "PNV", "Hải Châu", ("TĐKT",)),
    ("TỈNH ỦY LÂM ĐỒNG", ("BAN TỔ CHỨC",), "BTCTU", "Lâm Đồng", ("TC",)),
    ("", ("BỘ GIAO THÔNG VẬN TẢI",), "BGTVT", "Hà Nội", ("KCHT", "VT", "ATGT")),
    ("UBND TỈNH ĐẮK LẮK", ("SỞ KẾ HOẠCH VÀ ĐẦU TƯ",), "SKHĐT", "Đắk Lắk", ("ĐKKD", "TH")),
    ("ĐẠI HỌC ĐÀ NẴNG", ("TRƯỜNG ĐẠI HỌC BÁCH KHOA",), "ĐHBK", "Đà Nẵng", ("ĐT", "TCHC")),
)

# Organs the extractor's rules were never written against, for the held-out run of the
# benchmark: other provinces, kinds of organ and fields (some words outside the organ lexicon).
HELD_OUT_ORGANS: tuple[tuple[str, tuple[str, ...], str, str, tuple[str, ...]], ...] = (
    ("UBND TỈNH HÀ TĨNH", ("SỞ TƯ PHÁP",), "STP", "Hà Tĩnh", ("HCTP", "VP")),
    ("SỞ NỘI VỤ TỈNH AN GIANG", ("CHI CỤC VĂN THƯ - LƯU TRỮ",), "CCVTLT", "An Giang",
     ("NV",)),
    ("", ("ỦY BAN NHÂN DÂN", "HUYỆN CHƯ SÊ"), "UBND", "Chư Sê", ("VP", "TCKH")),
    ("UBND TỈNH CÀ MAU", ("BAN QUẢN LÝ DỰ ÁN", "ĐẦU TƯ XÂY DỰNG"), "BQLDA", "Cà Mau", ("KT",)),
    ("BỘ KHOA HỌC VÀ CÔNG NGHỆ", ("VỤ PHÁP CHẾ",), "VPC", "Hà Nội", ("PC",)),
    ("UBND THÀNH PHỐ CẦN THƠ", ("SỞ CÔNG THƯƠNG",), "SCT", "Cần Thơ", ("QLTM", "VP")),
    ("", ("BỘ Y TẾ",), "BYT", "Hà Nội", ("KCB", "DP")),
    ("UBND TỈNH SƠN LA", ("TRUNG TÂM LƯU TRỮ LỊCH SỬ",), "TTLTLS", "Sơn La", ("NV",)),
    ("TỈNH ỦY QUẢNG NINH", ("VĂN PHÒNG",), "VPTU", "Quảng Ninh", ("TH",)),
    ("UBND HUYỆN MƯỜNG LÁT", ("PHÒNG LAO ĐỘNG - THƯƠNG BINH", "VÀ XÃ HỘI"), "LĐTBXH",
     "Mường Lát", ("BTXH",)),
)

# typeName code -> (tên loại as printed, abbreviation in ký hiệu per NĐ 30 Phụ lục III)
TYPES: dict[str, tuple[str, str]] = {
    "01": ("NGHỊ QUYẾT", "NQ"), "02": ("QUYẾT ĐỊNH", "QĐ"), "03": ("CHỈ THỊ", "CT"),
    "04": ("QUY CHẾ", "QC"), "05": ("QUY ĐỊNH", "QyĐ"), "06": ("THÔNG CÁO", "TC"),
    "07": ("THÔNG BÁO", "TB"), "08": ("HƯỚNG DẪN", "HD"), "09": ("CHƯƠNG TRÌNH", "CTr"),
    "10": ("KẾ HOẠCH", "KH"), "11": ("PHƯƠNG ÁN", "PA"), "12": ("ĐỀ ÁN", "ĐA"),
    "13": ("DỰ ÁN", "DA"), "14": ("BÁO CÁO", "BC"), "15": ("TỜ TRÌNH", "TTr"),
    "16": ("GIẤY ỦY QUYỀN", "GUQ"), "17": ("PHIẾU GỬI", "PG"), "18": ("PHIẾU CHUYỂN", "PC"),
    "19": ("PHIẾU BÁO", "PB"), "20": ("BIÊN BẢN", "BB"), "21": ("HỢP ĐỒNG", "HĐ"),
    "22": ("", ""), "23": ("CÔNG ĐIỆN", "CĐ"), "24": ("BẢN GHI NHỚ", "GN"),
    "25": ("BẢN THỎA THUẬN", "TTh"), "26": ("GIẤY MỜI", "GM"), "27": ("GIẤY GIỚI THIỆU", "GGT"),
    "28": ("GIẤY NGHỈ PHÉP", "NP"),
}

ACTIONS = ("ban hành", "triển khai", "tăng cường", "phê duyệt", "sửa đổi, bổ sung", "tổ chức",
           "kiện toàn", "thực hiện", "hướng dẫn thực hiện", "đẩy mạnh", "kiểm tra")
TOPICS = ("công tác văn thư, lưu trữ năm {y}", "chuyển đổi số trong cơ quan nhà nước",
          "số hóa tài liệu lưu trữ tại các cơ quan, tổ chức", "quy chế làm việc của Ủy ban nhân dân",
          "phòng, chống thiên tai và tìm kiếm cứu nạn", "cải cách hành chính giai đoạn {y}–{y2}",
          "dự toán ngân sách nhà nước năm {y}", "tuyển dụng viên chức năm {y}",
          "thi đua, khen thưởng năm {y}", "bảo vệ môi trường trên địa bàn",
          "quản lý đất đai và giải phóng mặt bằng", "an toàn giao thông dịp Tết Nguyên đán",
          "kỳ họp thứ mười một Hội đồng nhân dân", "đào tạo, bồi dưỡng cán bộ, công chức",
          "chỉnh lý tài liệu tồn đọng của các phòng ban", "phòng, chống dịch bệnh",
          "kiểm kê tài sản công", "chế độ báo cáo thống kê ngành nội vụ")
RECIPIENTS = ("Ủy ban nhân dân các huyện, thị xã", "Các sở, ban, ngành thuộc tỉnh",
              "Trung tâm Lưu trữ lịch sử", "Văn phòng Ủy ban nhân dân tỉnh")
BODY = ("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
        "Căn cứ Luật Lưu trữ ngày 21 tháng 6 năm 2024;",
        "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
        "Theo đề nghị của Giám đốc Sở Nội vụ tại Tờ trình số 45/TTr-SNV.",
        "Các cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành văn bản này.",
        "Văn bản này có hiệu lực kể từ ngày ký.")


@dataclass(frozen=True)
class Truth:
    """The fields an archivist would copy from the page."""

    type_name: str
    code_number: str
    code_notation: str
    issued_date: str
    organ_name: str
    subject: str


@dataclass(frozen=True)
class Sample:
    """One generated document: its expected fields and how it is drawn."""

    name: str
    truth: Truth
    degraded: bool
    font: str
    dpi: int
    governing: str
    issuing: tuple[str, ...]
    place: str
    type_line: str
    subject_lines: tuple[str, ...]
    seed: int


def _wrap(text: str, width: int) -> tuple[str, ...]:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return tuple(lines)


def make_samples(seed: int, n: int, organs: tuple[tuple[str, tuple[str, ...], str, str,
                                                    tuple[str, ...]], ...] = ORGANS
                 ) -> list[Sample]:
    """``n`` documents from ``seed``: every second one degraded, types cycled over a shuffled
    list of the 28 numbered NĐ 30 types so each appears, organs (from ``organs``), numbers and
    dates at random."""
    rng = random.Random(seed)
    codes = list(TYPES)
    out: list[Sample] = []
    for i in range(n):
        if i % len(codes) == 0:
            rng.shuffle(codes)
        code = codes[i % len(codes)]
        governing, issuing, abbr, place, units = rng.choice(organs)
        type_line, type_abbr = TYPES[code]
        number = str(rng.choice((rng.randint(1, 99), rng.randint(100, 999),
                                 rng.randint(1000, 9999))))
        year = rng.randint(1995, 2026)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        if code == "22":
            notation = f"{abbr}-{rng.choice(units)}"
        elif code in ("01", "02") and rng.random() < 0.3:
            notation = f"{year}/{type_abbr}-{abbr}"
        else:
            notation = f"{type_abbr}-{abbr}"
        topic = rng.choice(TOPICS).format(y=year, y2=year + 4)
        action = rng.choice(ACTIONS)
        if code == "22":
            subject = f"V/v {action} {topic}"
        elif code in ("02", "03", "07", "26") or rng.random() < 0.3:
            subject = f"Về việc {action} {topic}"
        else:
            subject = f"{action[0].upper()}{action[1:]} {topic}"
        day_text = f"{day:02d}" if day < 10 or rng.random() < 0.5 else str(day)
        month_text = f"{month:02d}" if month < 3 else str(month)  # NĐ 30: 01, 02 padded
        place_date = f"{place}, ngày {day_text} tháng {month_text} năm {year}"
        width = 34 if code == "22" else 60
        truth = Truth(code, number, notation, f"{day:02d}/{month:02d}/{year}",
                      " ".join(issuing), subject)
        out.append(Sample(
            name=f"s{seed}-{i:03d}", truth=truth, degraded=i % 2 == 1,
            font=rng.choice(tuple(FONTS)), dpi=rng.choice((200, 300)), governing=governing,
            issuing=issuing, place=place_date, type_line=type_line,
            subject_lines=_wrap(subject, width), seed=rng.randrange(2**31)))
    return out


def render(sample: Sample) -> Image.Image:
    """An A4 page (grayscale) in the NĐ 30 layout: header in two columns, type, subject, body."""
    rng = random.Random(sample.seed)
    dpi = sample.dpi
    px = dpi / 72
    w, h = int(8.27 * dpi), int(11.69 * dpi)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    regular, bold, italic = FONTS[sample.font]

    def font(path: str, pt: float) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(path, int(pt * px))

    left_c, right_c = int(w * 0.28), int(w * 0.68)
    top = int(0.8 * dpi)
    line = int(15 * px)

    def centred(text: str, cx: int, y: int, f: ImageFont.FreeTypeFont) -> int:
        width = draw.textlength(text, font=f)
        draw.text((cx - width / 2, y), text, font=f, fill=0)
        return int(width)

    y = top
    if sample.governing:
        centred(sample.governing, left_c, y, font(regular, 12.5))
        y += line
    widest = 0
    for part in sample.issuing:
        widest = max(widest, centred(part, left_c, y, font(bold, 12.5)))
        y += line
    draw.line((left_c - widest // 4, y + 2, left_c + widest // 4, y + 2), fill=0, width=2)
    y += int(line * 0.7)
    t = sample.truth
    centred(f"Số: {t.code_number}/{t.code_notation}", left_c, y, font(regular, 13))
    y += line
    if t.type_name == "22":
        for part in sample.subject_lines:
            centred(part, left_c, y, font(regular, 12))
            y += int(line * 0.9)
    ry = top
    centred("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", right_c, ry, font(bold, 12.5))
    ry += line
    width = centred("Độc lập - Tự do - Hạnh phúc", right_c, ry, font(bold, 13))
    ry += line + 4
    draw.line((right_c - width // 2, ry, right_c + width // 2, ry), fill=0, width=2)
    ry += int(line * 0.8) + (line if sample.governing else 0) + int(line * 0.7)
    centred(sample.place, right_c, ry, font(italic, 13))
    y = max(y, ry + line) + int(line * 1.5)
    if sample.type_line:
        centred(sample.type_line, w // 2, y, font(bold, 14))
        y += int(line * 1.1)
        for part in sample.subject_lines:
            centred(part, w // 2, y, font(bold, 13.5))
            y += int(line * 1.05)
        y += line
    else:
        centred(f"Kính gửi: {rng.choice(RECIPIENTS)}", w // 2, y, font(regular, 14))
        y += int(line * 2)
    body = font(regular, 13.5)
    x0 = int(1.2 * dpi)
    for para in rng.sample(BODY, 4):
        for part in _wrap(para, 80):
            draw.text((x0, y), part, font=body, fill=0)
            y += int(line * 1.2)
    return img


def degrade(img: Image.Image, seed: int) -> bytes:
    """A poor scan: skew within ±2°, blur, speckle noise, JPEG quality 30–50."""
    rng = random.Random(seed)
    page = img.rotate(rng.uniform(-2, 2), resample=Image.Resampling.BICUBIC, expand=False,
                      fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.2)))
    # uniform speckle from the seeded generator (Image.effect_noise has a generator of its own)
    noise = Image.frombytes("L", page.size, rng.randbytes(page.size[0] * page.size[1]))
    page = Image.blend(page, noise, rng.uniform(0.10, 0.16))
    buf = io.BytesIO()
    page.save(buf, "JPEG", quality=rng.randint(30, 50))
    return buf.getvalue()


def page_bytes(sample: Sample) -> tuple[bytes, str]:
    """The page as the scanner would deliver it: PNG when clean, JPEG when degraded."""
    img = render(sample)
    if sample.degraded:
        return degrade(img, sample.seed), "jpg"
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(sample.dpi, sample.dpi))
    return buf.getvalue(), "png"


def ocr(image: Path, timeout: float = 300) -> str:
    """Tesseract as the digitisation pipeline runs it: ``-l vie``, default page segmentation,
    ``OMP_THREAD_LIMIT=1``."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(["tesseract", str(image), "-", "-l", "vie"], capture_output=True,
                          env=env, timeout=timeout, check=True)
    return done.stdout.decode("utf-8")


def ocr_sample(sample: Sample, folder: Path) -> str:
    """The OCR text of ``sample``, cached in ``folder`` (image and text) so reruns are fast."""
    folder.mkdir(parents=True, exist_ok=True)
    text_file = folder / f"{sample.name}.txt"
    if text_file.exists():
        return text_file.read_text(encoding="utf-8")
    data, ext = page_bytes(sample)
    image = folder / f"{sample.name}.{ext}"
    image.write_bytes(data)
    text = ocr(image)
    text_file.write_text(text, encoding="utf-8")
    return text
