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

    # --- #15 transfers (fields with defaults) ---

    # --- #15 paper repository (fields with defaults) ---

    # --- #15 reports (fields with defaults) ---

    # --- #16 digitisation (fields with defaults) ---

    # --- #16 extraction and queue (fields with defaults) ---

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

    # --- #15 transfers ---

    # --- #15 paper repository ---

    # --- #15 reports ---

    # --- #16 digitisation ---

    # --- #16 extraction and queue ---

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
