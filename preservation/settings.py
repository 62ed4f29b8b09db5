"""The one settings object, built once from ``KHOSO_*`` environment variables and passed down.

Unknown ``KHOSO_`` variables and bad values stop start-up with a message that names the variable:
a typo in a production setting must never fall back silently to a default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from preservation.errors import ConfigError
from preservation.issues import Text

PREFIX = "KHOSO_"
# Variables the test harness and the shell use; they are not settings of a running khoso.
_NOT_SETTINGS = re.compile(r"^KHOSO_TEST_")


@dataclass(frozen=True)
class StorageLocation:
    """A replica location: ``file:///path`` or ``s3://bucket?endpoint=…&region=…&lock_days=…``."""

    name: str
    url: str
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def path(self) -> Path:
        return Path(urlsplit(self.url).path)

    @property
    def bucket(self) -> str:
        return urlsplit(self.url).netloc


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    storage_locations: tuple[StorageLocation, ...]
    clamd: str
    clamd_managed: bool
    clamd_timeout: float
    clamd_tmpdir: str
    broker_url: str
    archive_code: str
    archive_name: str
    archive_kind: str
    host: str
    port: int
    log_level: str
    log_format: str
    language: str
    retention_count_from: str
    max_upload_bytes: int
    max_files: int
    max_queued_jobs: int
    upload_expiry_days: int
    job_visibility_timeout: int
    format_identifier: str
    reject_not_scanned: bool
    audit_period_days: int
    audit_runs_per_day: int
    dip_retention_days: int
    workers: int
    trust_dir: str
    keys_dir: str
    session_secure: bool
    session_hours: int
    login_window: int
    login_max_failures: int
    login_max_failures_client: int
    delivery_cache_bytes: int
    delivery_cache_verify_hours: int
    metrics_public: bool = False
    # --- #15 disposal (fields with defaults) ---
    disposal_execute_days: int = 15
    disposal_scan_hour: int = 2

    # --- #15 transfers (fields with defaults) ---
    transfer_notice_months: int = 12
    transfer_due_years: int = 5
    transfer_target_years: int = 3
    transfer_warn_days: int = 30
    transfer_remote_timeout: int = 30

    # --- #15 paper repository (fields with defaults) ---
    paper_loan_days: int = 30
    digitisation_permanent_points: int = 40
    digitisation_use_points: int = 5

    # --- #15 reports (fields with defaults) ---
    report_font_dir: str = "/usr/share/fonts/truetype/liberation2"
    report_place: str = ""

    # --- #16 digitisation (fields with defaults) ---
    digitise_jobs: int = 2
    digitise_max_pages: int = 2000
    digitise_max_page_pixels: int = 150_000_000
    digitise_page_timeout: int = 120
    digitise_font: str = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"

    # --- #16 extraction and queue (fields with defaults) ---
    extraction_max_text: int = 1_000_000

    # --- #16 format migration (fields with defaults) ---
    migrate_on_ingest: str = "off"
    migration_timeout: int = 600


    @property
    def clamd_dir(self) -> Path:
        return self.data_dir / "clamav"

    def location(self, name: str) -> StorageLocation:
        for loc in self.storage_locations:
            if loc.name == name:
                return loc
        raise ConfigError("CFG002", name="KHOSO_STORAGE_LOCATIONS", value=name,
                          reason=Text("không có vị trí lưu trữ này", "no such location"))


class _Expected(ValueError):
    """A value not of the form a setting needs, said in both languages (``CFG002``)."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.text = Text(vi, en)


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    raise _Expected("cần true hoặc false", "expected true/false")


def _hour(text: str) -> int:
    """An hour of the day, 0–23 (the daily disposal scan)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 23:
        raise _Expected("cần một giờ từ 0 đến 23", "must be an hour from 0 to 23")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise _Expected("cần một số nguyên dương", "must be a positive integer")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise _Expected("cần một số dương", "must be a positive number")
    return value


def _audit_period(text: str) -> int:
    value = _positive_int(text)
    if value > 1096:
        raise _Expected("luật yêu cầu kiểm tra toàn bộ ít nhất ba năm một lần (1096 ngày)",
                        "the law asks for a full check at least every three years (1096 days)")
    return value


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise _Expected(f"phải là một trong {', '.join(allowed)}",
                            f"must be one of {', '.join(allowed)}")
        return text

    return parse


def _code(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,24}", text):
        raise _Expected("1–25 chữ cái, chữ số, '.', '_' hoặc '-'",
                        "1–25 letters, digits, '.', '_' or '-'")
    return text


def _clamd(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme == "unix" and parts.path:
        return text
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        return text
    raise _Expected("cần dạng unix:///đường/dẫn/clamd.sock hoặc tcp://máy:cổng",
                    "expected unix:///path/to/clamd.sock or tcp://host:port")


def _database_url(text: str) -> str:
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", text):
        raise _Expected("cần dạng sqlite:///… hoặc postgresql+psycopg://…",
                        "expected sqlite:///… or postgresql+psycopg://…")
    return text


def parse_locations(text: str) -> tuple[StorageLocation, ...]:
    locations: list[StorageLocation] = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, url = item.partition("=")
        shown = mask_secrets(item)  # a reason is printed and logged
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", name):
            raise _Expected(f"«{shown}»: cần dạng tên=url, tên viết thường",
                            f"'{shown}': expected name=url with a lowercase name")
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.path.startswith("/"):
            pass
        elif parts.scheme == "s3" and parts.netloc:
            pass
        else:
            raise _Expected(f"«{mask_secrets(url)}»: cần dạng file:///đường/dẫn/tuyệt/đối "
                            "hoặc s3://bucket",
                            f"'{mask_secrets(url)}': expected file:///absolute/path or s3://bucket")
        if any(loc.name == name for loc in locations):
            raise _Expected(f"tên vị trí «{name}» dùng hai lần", f"location name '{name}' used twice")
        base = url.split("?", 1)[0]
        locations.append(StorageLocation(name, base, dict(parse_qsl(parts.query))))
    if not locations:
        raise _Expected("cần ít nhất một vị trí lưu trữ", "at least one storage location is required")
    return tuple(locations)


# name -> (parser, default given the data dir, description in both languages)
_SPEC: dict[str, tuple[Callable[[str], Any], Callable[[Path], str], Text]] = {
    "DATABASE_URL": (_database_url, lambda d: f"sqlite:///{d / 'catalog.sqlite'}",
                     Text("Cơ sở dữ liệu danh mục (tệp SQLite hoặc PostgreSQL).",
                          "Catalog database (SQLite file or PostgreSQL).")),
    "STORAGE_LOCATIONS": (parse_locations,
                          lambda d: f"replica1=file://{d / 'replicas' / 'replica1'},"
                                    f"replica2=file://{d / 'replicas' / 'replica2'}",
                          Text("Các vị trí lưu bản sao, dạng tên=url, cách nhau bởi dấu phẩy "
                               "(file:// hoặc s3://bucket?endpoint=…).",
                               "Comma-separated name=url replica locations "
                               "(file:// or s3://bucket?endpoint=…).")),
    "CLAMD": (_clamd, lambda d: f"unix://{d / 'clamav' / 'clamd.sock'}",
              Text("Địa chỉ clamd: unix:///đường/dẫn hoặc tcp://máy:cổng.",
                   "clamd address: unix:///path or tcp://host:port.")),
    "CLAMD_MANAGED": (_bool, lambda d: "true",
                      Text("khoso serve khởi động, duy trì và dừng một clamd cục bộ với cấu hình "
                           "trong thư mục dữ liệu (ingest --wait khởi động clamd cho lần chạy của "
                           "mình khi chưa có clamd nào chạy).",
                           "khoso serve starts, keeps running and stops a local clamd with the "
                           "config under the data dir (ingest --wait starts it for its run when "
                           "none runs).")),
    "CLAMD_TIMEOUT": (_positive_float, lambda d: "600",
                      Text("Số giây chờ clamd quét một luồng dữ liệu.",
                           "Seconds to wait for clamd on one stream.")),
    "CLAMD_TMPDIR": (str, lambda d: str(d / "clamav" / "tmp"),
                     Text("Nơi clamd cục bộ ghi mỗi luồng dữ liệu trước khi quét; một tmpfs "
                          "(/dev/shm) quét tệp nhỏ nhanh gấp 1,6 lần nhưng giữ tới 4 luồng "
                          "trong RAM.",
                          "Where the local clamd writes each stream before scanning it; a tmpfs "
                          "(/dev/shm) scans small files 1.6x faster but holds up to 4 streams "
                          "in RAM.")),
    "BROKER_URL": (str, lambda d: f"sqla+sqlite:///{d / 'broker.sqlite'}",
                   Text("Hàng đợi công việc (broker của Celery); giá trị mặc định không cần "
                        "máy chủ.",
                        "Celery broker; the default needs no server.")),
    "ARCHIVE_CODE": (_code, lambda d: "KHOSO",
                     Text("Mã cơ quan lưu trữ: tiền tố của mã hồ sơ (arcFileCode).",
                          "Mã cơ quan lưu trữ: prefix of arcFileCode.")),
    "ARCHIVE_NAME": (str, lambda d: "Kho lưu trữ số",
                     Text("Tên cơ quan lưu trữ.", "Name of the archive body.")),
    "ARCHIVE_KIND": (_choice("hien_hanh", "lich_su"), lambda d: "lich_su",
                     Text("Lưu trữ hiện hành (hien_hanh) hoặc lưu trữ lịch sử (lich_su).",
                          "Lưu trữ hiện hành or lưu trữ lịch sử.")),
    "HOST": (str, lambda d: "127.0.0.1",
             Text("Địa chỉ mà khoso serve lắng nghe.", "Address khoso serve binds.")),
    "PORT": (_positive_int, lambda d: "8080",
             Text("Cổng mà khoso serve lắng nghe.", "Port khoso serve binds.")),
    "LOG_LEVEL": (_choice("DEBUG", "INFO", "WARNING", "ERROR"), lambda d: "INFO",
                  Text("Mức ghi nhật ký.", "Log level.")),
    "LOG_FORMAT": (_choice("text", "json"), lambda d: "text",
                   Text("Dòng nhật ký dạng văn bản hoặc dạng dòng JSON (mã công việc, bước và "
                        "kết quả là các trường riêng).",
                        "Log lines as text or as JSON lines (job id, step and outcome as "
                        "fields).")),
    "LANGUAGE": (_choice("vi", "en"), lambda d: "vi",
                 Text("Ngôn ngữ mặc định của thông báo.", "Default language of messages.")),
    "RETENTION_COUNT_FROM": (_choice("end_year", "end_date"), lambda d: "end_year",
                             Text("Thời hạn bảo quản tính từ ngày 31/12 của năm công việc kết "
                                  "thúc (TT 10/2022) hoặc từ ngày kết thúc.",
                                  "Retention counts from 31/12 of the year the work ended "
                                  "(TT 10/2022) or from the end date.")),
    "MAX_UPLOAD_BYTES": (_positive_int, lambda d: str(64 * 2**30),
                         Text("Dung lượng lớn nhất (byte) của một gói nộp lưu được nhận.",
                              "Largest accepted submission.")),
    "MAX_FILES": (_positive_int, lambda d: "200000",
                  Text("Số tệp nhiều nhất được nhận trong một gói nộp lưu.",
                       "Most files accepted in one submission.")),
    "MAX_QUEUED_JOBS": (_positive_int, lambda d: "1000",
                        Text("Số công việc chờ hoặc đang chạy nhiều nhất; khi hàng đợi đầy, "
                             "nộp lưu qua API nhận 503 với Retry-After và không giữ lại gì.",
                             "Most jobs queued or running; when the queue is full an API "
                             "submission gets 503 with Retry-After and nothing is kept.")),
    "UPLOAD_EXPIRY_DAYS": (_positive_int, lambda d: "7",
                           Text("Số ngày một phiên tải lên có thể tiếp tục (tus) được giữ kể từ "
                                "lần nhận dữ liệu cuối; quá hạn thì bị xóa.",
                                "Days a resumable (tus) upload is kept after the last bytes "
                                "arrived; expired ones are removed.")),
    "JOB_VISIBILITY_TIMEOUT": (_positive_int, lambda d: "3600",
                               Text("Số giây trước khi một công việc mà tiến trình xử lý đã nhận "
                                    "rồi bị dừng đột ngột được giao lại (với mọi broker: thời "
                                    "hạn giữ công việc ghi trong danh mục).",
                                    "Seconds before a job taken by a worker that died is handed "
                                    "out again (every broker: the job's lease in the catalog).")),
    "FORMAT_IDENTIFIER": (_choice("siegfried", "fido"), lambda d: "siegfried",
                          Text("Công cụ nhận dạng định dạng PRONOM: siegfried (pygfried) "
                               "hoặc fido.",
                               "PRONOM identification tool: siegfried (pygfried) or fido.")),
    "REJECT_NOT_SCANNED": (_bool, lambda d: "true",
                           Text("Từ chối gói SIP có tệp mà clamd không quét trọn vẹn được "
                                "(nếu không thì chỉ cảnh báo).",
                                "Reject a SIP with a file clamd could not fully scan "
                                "(else warn).")),
    "AUDIT_PERIOD_DAYS": (_audit_period, lambda d: "90",
                          Text("Mọi bản sao được đọc lại toàn bộ trong vòng số ngày này "
                               "(theo luật: tối đa 1096).",
                               "Every copy is fully re-read within this many days "
                               "(law: at most 1096).")),
    "AUDIT_RUNS_PER_DAY": (_positive_int, lambda d: "24",
                           Text("Số lần kiểm tra theo lịch mỗi ngày; mỗi lần đọc lại phần bản "
                                "sao được chia cho lần đó.",
                                "Scheduled audit runs per day; each reads its share of the "
                                "copies.")),
    "DIP_RETENTION_DAYS": (_positive_int, lambda d: "15",
                           Text("Số ngày giữ gói DIP đã tạo để độc giả tải về (TT 05: bản sao "
                                "được tải trong 15 ngày); quá hạn thì tệp bị xóa.",
                                "Days a built DIP is kept for its reader to download (TT 05: "
                                "copies are downloadable for 15 days); then its file is "
                                "removed.")),
    "WORKERS": (_positive_int, lambda d: "1",
                Text("Số tiến trình xử lý công việc mà khoso serve khởi động.",
                     "Worker processes khoso serve starts for jobs.")),
    "TRUST_DIR": (str, lambda d: str(d / "trust"),
                  Text("Thư mục chứng thư gốc tin cậy (PEM/DER) để kiểm tra chữ ký số.",
                       "Folder of trusted root certificates (PEM/DER) for signature "
                       "validation.")),
    "KEYS_DIR": (str, lambda d: str(d / "keys"),
                 Text("Thư mục chứa khóa ký và chứng thư số của cơ quan lưu trữ.",
                      "Folder of the archive signing key and certificate.")),
    "SESSION_SECURE": (_bool, lambda d: "false",
                       Text("Cookie phiên đăng nhập chỉ được gửi qua HTTPS (cờ Secure); luôn "
                            "bật khi yêu cầu đến bằng HTTPS.",
                            "The login session cookie is sent over HTTPS only (Secure flag); "
                            "always set when the request came over HTTPS.")),
    "SESSION_HOURS": (_positive_int, lambda d: "8",
                      Text("Số giờ một phiên đăng nhập trên trình duyệt còn hiệu lực.",
                           "Hours a browser login session lasts.")),
    "LOGIN_WINDOW": (_positive_int, lambda d: "900",
                     Text("Khoảng thời gian (giây) đếm số lần đăng nhập sai.",
                          "Window (seconds) over which failed logins are counted.")),
    "LOGIN_MAX_FAILURES": (_positive_int, lambda d: "5",
                           Text("Số lần đăng nhập sai tối đa của một tên đăng nhập trong "
                                "khoảng thời gian đó; sau đó phải chờ (HTTP 429).",
                                "Failed logins allowed for one username within the window; "
                                "then the caller must wait (HTTP 429).")),
    "LOGIN_MAX_FAILURES_CLIENT": (_positive_int, lambda d: "20",
                                  Text("Số lần đăng nhập sai tối đa từ một địa chỉ máy khách "
                                       "trong khoảng thời gian đó (mọi tên đăng nhập).",
                                       "Failed logins allowed from one client address within "
                                       "the window (any username).")),
    "METRICS_PUBLIC": (_bool, lambda d: "false",
                       Text("GET /metrics trả lời cả người gọi không có mã truy cập (mặc định chỉ "
                            "cán bộ bảo quản và quản trị).",
                            "GET /metrics answers anonymous callers too (by default only "
                            "preservation officers and administrators).")),
    "DELIVERY_CACHE_BYTES": (_positive_int, lambda d: str(10 * 2**30),
                             Text("Dung lượng lớn nhất (byte) của bộ đệm tệp đã kiểm chứng "
                                  "(thư mục cache/ trong thư mục dữ liệu) dùng để phục vụ độc giả; "
                                  "tệp ít dùng nhất bị xóa trước.",
                                  "Largest size (bytes) of the verified delivery cache (cache/ "
                                  "under the data folder) files are served from; the least "
                                  "recently used go first.")),
    "DELIVERY_CACHE_VERIFY_HOURS": (_positive_int, lambda d: "24",
                                    Text("Tệp trong bộ đệm được băm lại trước khi phục vụ khi lần "
                                         "kiểm chứng trước đã quá số giờ này.",
                                         "A cached file is hashed again before it is served when "
                                         "its last verification is older than this many hours.")),
    # --- #15 disposal ---
    "DISPOSAL_EXECUTE_DAYS": (_positive_int, lambda d: "15",
                              Text("Số ngày kể từ quyết định hủy của người có thẩm quyền mà việc "
                                   "hủy phải được thực hiện (TT 06/2025: 15 ngày); quá hạn thì "
                                   "cần một quyết định mới.",
                                   "Days after the competent person's decision within which a "
                                   "destruction must be executed (TT 06/2025: 15); past them a "
                                   "new decision is needed.")),
    "DISPOSAL_SCAN_HOUR": (_hour, lambda d: "2",
                           Text("Giờ (UTC, 0–23) chạy hằng ngày việc rà soát đưa tài liệu hết "
                                "thời hạn bảo quản và tài liệu trùng lặp vào Danh mục tài liệu "
                                "hết giá trị.",
                                "Hour (UTC, 0–23) of the daily scan that lists expired and "
                                "duplicate records as of no further value.")),

    # --- #15 transfers ---
    "TRANSFER_NOTICE_MONTHS": (_positive_int, lambda d: "12",
                               Text("Số tháng tối thiểu giữa ngày đăng ký nộp lưu và ngày dự kiến "
                                    "nộp (TT 05: đăng ký trước 12 tháng).",
                                    "Minimum months between registering a transfer and its "
                                    "planned date (TT 05: register 12 months ahead).")),
    "TRANSFER_DUE_YEARS": (_positive_int, lambda d: "5",
                           Text("Hạn nộp lưu hồ sơ vĩnh viễn vào lưu trữ lịch sử, tính bằng năm "
                                "từ năm hồ sơ vào kho (Luật Lưu trữ 2024 Điều 17: tối đa 05 năm).",
                                "Years from the year a permanent hồ sơ entered this archive to "
                                "its transfer deadline (Archives Law 2024 art. 17: at most 5).")),
    "TRANSFER_TARGET_YEARS": (_positive_int, lambda d: "3",
                              Text("Chỉ tiêu kế hoạch: số năm để nộp lưu hồ sơ vĩnh viễn (kế hoạch "
                                   "Hà Nội: 80 % trong 03 năm); báo cáo tỷ lệ đạt.",
                                   "Plan target: years within which permanent hồ sơ should be "
                                   "transferred (Hà Nội plan: 80 % within 3); the share is "
                                   "reported.")),
    "TRANSFER_WARN_DAYS": (_positive_int, lambda d: "30",
                           Text("Số ngày báo trước khi đến hạn nộp lưu (cảnh báo hằng ngày vào "
                                "nhật ký kiểm tra).",
                                "Days before a transfer deadline that warnings start (written "
                                "daily to the audit log).")),
    "TRANSFER_REMOTE_TIMEOUT": (_positive_int, lambda d: "30",
                                Text("Thời gian chờ (giây) mỗi lần gọi kho lưu trữ lịch sử nhận "
                                     "nộp lưu.",
                                     "Seconds to wait for each call to the receiving historical "
                                     "archive.")),

    # --- #15 paper repository ---
    "PAPER_LOAN_DAYS": (_positive_int, lambda d: "30",
                        Text("Số ngày mặc định được mượn hồ sơ giấy khi xuất kho (hạn trả).",
                             "Default number of days a paper hồ sơ is lent when checked out "
                             "(its due date).")),
    "DIGITISATION_PERMANENT_POINTS": (_positive_int, lambda d: "40",
                                      Text("Điểm ưu tiên số hóa cộng cho hồ sơ bảo quản vĩnh "
                                           "viễn (thời hạn 01).",
                                           "Digitisation priority points for a permanent "
                                           "hồ sơ (retention 01).")),
    "DIGITISATION_USE_POINTS": (_positive_int, lambda d: "5",
                                Text("Điểm ưu tiên số hóa cho mỗi lần hồ sơ được khai thác "
                                     "(mượn, xem, yêu cầu), tối đa 10 lần.",
                                     "Digitisation priority points per use of the hồ sơ "
                                     "(loan, view, request), counted up to 10 uses.")),

    # --- #15 reports ---
    "REPORT_FONT_DIR": (str, lambda d: "/usr/share/fonts/truetype/liberation2",
                        Text("Thư mục phông chữ in báo cáo PDF: LiberationSerif-Regular.ttf, "
                             "-Bold.ttf, -Italic.ttf (phông tương đương Times New Roman, đủ dấu "
                             "tiếng Việt; gói Debian fonts-liberation2).",
                             "Folder of the PDF reports' font: LiberationSerif-Regular.ttf, "
                             "-Bold.ttf, -Italic.ttf (Times New Roman's metric twin, covering "
                             "Vietnamese; Debian package fonts-liberation2).")),
    "REPORT_PLACE": (str, lambda d: "",
                     Text("Địa danh ghi ở dòng ngày tháng của biên bản (ví dụ «Hà Nội»); để "
                          "trống thì in chỗ trống để điền tay.",
                          "Place name printed in the date line of minutes (e.g. 'Hà Nội'); "
                          "empty leaves a blank to fill in by hand.")),

    # --- #16 digitisation ---
    "DIGITISE_JOBS": (_positive_int, lambda d: str(os.cpu_count() or 1),
                      Text("Số tiến trình nhận dạng chữ (OCR) chạy song song khi số hóa; mặc định "
                           "bằng số lõi của máy.",
                           "OCR processes run in parallel when digitising; by default the "
                           "machine's core count.")),
    "DIGITISE_MAX_PAGES": (_positive_int, lambda d: "2000",
                           Text("Số ảnh trang nhiều nhất trong một tệp PDF/A số hóa.",
                                "Most page images in one digitised PDF/A.")),
    "DIGITISE_MAX_PAGE_PIXELS": (_positive_int, lambda d: "150000000",
                                 Text("Số điểm ảnh lớn nhất của một ảnh trang (chống ảnh giải nén "
                                      "quá lớn; A0 ở 300 dpi khoảng 140 triệu).",
                                      "Most pixels in one page image (guards against "
                                      "decompression bombs; A0 at 300 dpi is about 140 million).")),
    "DIGITISE_PAGE_TIMEOUT": (_positive_int, lambda d: "120",
                              Text("Số giây cho phép nhận dạng chữ mỗi trang trước khi bước OCR bị "
                                   "dừng.",
                                   "Seconds allowed per page for OCR before the step is stopped.")),
    "DIGITISE_FONT": (str, lambda d: "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
                      Text("Phông TrueType của dòng chữ ký số (Times New Roman hoặc Liberation "
                           "Serif cùng kích thước), được nhúng vào PDF/A.",
                           "TrueType font of the signature text (Times New Roman or its metric "
                           "twin Liberation Serif), embedded in the PDF/A.")),

    # --- #16 extraction and queue ---
    "EXTRACTION_MAX_TEXT": (_positive_int, lambda d: "1000000",
                            Text("Số ký tự lớn nhất của văn bản gửi kèm yêu cầu bóc tách thông "
                                 "tin (POST …/extraction); văn bản dài hơn bị từ chối (EXT002).",
                                 "Most characters of the text sent with a metadata-extraction "
                                 "request (POST …/extraction); a longer text is refused "
                                 "(EXT002).")),

    # --- #16 format migration ---
    "MIGRATE_ON_INGEST": (_choice("off", "queue"), lambda d: "off",
                          Text("Tệp được tiếp nhận với cảnh báo FMT005 mà kho chuyển đổi được "
                               "(PDF thường sang PDF/A-2b, GIF 87a sang TIFF): off = chỉ chuyển "
                               "đổi khi cán bộ bảo quản chạy khoso migrate hoặc gọi API; queue = "
                               "xếp một công việc chuyển đổi cho gói AIP ngay sau khi lưu.",
                               "Files ingested with FMT005 that the archive can migrate (plain "
                               "PDF to PDF/A-2b, GIF 87a to TIFF): off = migrated only when a "
                               "preservation officer runs khoso migrate or calls the API; queue "
                               "= a migration job is queued for the AIP once it is stored.")),
    "MIGRATION_TIMEOUT": (_positive_int, lambda d: "600",
                          Text("Số giây tối đa Ghostscript được chạy để chuyển một tệp PDF "
                               "sang PDF/A; quá hạn thì tệp đó không được chuyển đổi.",
                               "Longest time (seconds) Ghostscript may run to convert one PDF "
                               "to PDF/A; past it the file is not migrated.")),

}
_DATA_DIR_DOC = Text("Thư mục dữ liệu của kho (danh mục, bản sao, clamd, hàng đợi công việc).",
                     "Data folder (catalog, replicas, clamd, broker).")


def _reason(exc: ValueError | TypeError) -> Text:
    """Why a value is refused, in both languages; an unforeseen parser error keeps its
    technical text, marked as such in Vietnamese."""
    if isinstance(exc, _Expected):
        return exc.text
    said = mask_secrets(str(exc))
    return Text(f"chi tiết kỹ thuật: {said}", said)


def documented() -> list[tuple[str, str, Text]]:
    """(variable, default, description) rows for the README and ``khoso settings``."""
    d = Path("./khoso-data")
    rows = [(PREFIX + "DATA_DIR", "./khoso-data", _DATA_DIR_DOC)]
    rows += [(PREFIX + k, default(d), doc) for k, (_, default, doc) in _SPEC.items()]
    return rows


class Source(StrEnum):
    """Where a setting's value in effect came from (khoso reads no configuration file)."""

    ENVIRONMENT = "environment"
    DEFAULT = "default"


@dataclass(frozen=True)
class SettingValue:
    name: str
    value: str  # secrets masked
    source: Source
    default: str
    doc: Text
    error: Text | None = None  # why the value is refused (CFG002 at start-up)


_USERINFO = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s,]*):[^@/\s,]+@", re.IGNORECASE)
_SECRET_PARAM = re.compile(r"(?P<head>(?:password|passwd|secret|token)[a-z_]*=)[^&;,\s]+",
                           re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """Hide passwords in URLs (``user:***@host``) and secret query parameters."""
    return _SECRET_PARAM.sub(r"\g<head>***", _USERINFO.sub(r"\g<head>:***@", text))


def in_effect(environ: Mapping[str, str] | None = None) -> list[SettingValue]:
    """Every setting with the value a khoso started now would use and where it came from;
    a bad value is shown with its reason instead of stopping (``khoso settings``)."""
    env = os.environ if environ is None else environ
    raw_dir = env.get(PREFIX + "DATA_DIR")
    data_dir = Path(raw_dir or "./khoso-data").expanduser().resolve()
    rows = [SettingValue(PREFIX + "DATA_DIR", str(data_dir),
                         Source.DEFAULT if raw_dir is None else Source.ENVIRONMENT,
                         "./khoso-data", _DATA_DIR_DOC)]
    for key, (parse, default, doc) in _SPEC.items():
        raw = env.get(PREFIX + key)
        text = default(data_dir) if raw is None else raw
        error: Text | None = None
        try:
            parse(text)
        except (ValueError, TypeError) as exc:
            error = _reason(exc)
        rows.append(SettingValue(PREFIX + key, mask_secrets(text),
                                 Source.DEFAULT if raw is None else Source.ENVIRONMENT,
                                 mask_secrets(default(Path("./khoso-data"))), doc, error))
    return rows


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    known = {PREFIX + "DATA_DIR", *(PREFIX + k for k in _SPEC)}
    for name in sorted(env):
        if name.startswith(PREFIX) and name not in known and not _NOT_SETTINGS.match(name):
            raise ConfigError("CFG001", name=name, known=", ".join(sorted(known)))
    data_dir = Path(env.get(PREFIX + "DATA_DIR", "./khoso-data")).expanduser().resolve()
    values: dict[str, Any] = {}
    for key, (parse, default, _doc) in _SPEC.items():
        raw = env.get(PREFIX + key)
        text = default(data_dir) if raw is None else raw
        try:
            values[key.lower()] = parse(text)
        except (ValueError, TypeError) as exc:
            raise ConfigError("CFG002", name=PREFIX + key, value=mask_secrets(text),
                              reason=_reason(exc)) from None
    return Settings(data_dir=data_dir, **values)
