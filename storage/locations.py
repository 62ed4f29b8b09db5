"""From a configured ``StorageLocation`` to a ``Storage``: the only module that knows the backends.

Adding a backend means one module and one entry in ``_OPENERS``. Unknown URL options stop
start-up (``CFG002``): a mistyped ``lock_days`` must never silently store objects unlocked.
S3 credentials come from the usual AWS chain (``AWS_ACCESS_KEY_ID``…, profiles, instance roles),
never from the location URL, so they stay out of settings dumps and logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from preservation.errors import ConfigError
from preservation.issues import Text
from preservation.settings import StorageLocation
from storage.protocol import LocationHealth, Storage

_SETTING = "KHOSO_STORAGE_LOCATIONS"


def _bad(location: StorageLocation, value: str, reason: Text) -> ConfigError:
    return ConfigError("CFG002", name=f"{_SETTING} ({location.name})", value=value, reason=reason)


def _check_options(location: StorageLocation, allowed: set[str]) -> None:
    unknown = sorted(set(location.options) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise _bad(location, location.url, Text(
            f"tùy chọn không được hỗ trợ {', '.join(unknown)}; các tùy chọn hợp lệ: {known}",
            f"unknown option(s) {', '.join(unknown)}; known: {known}"))


def _open_file(location: StorageLocation) -> Storage:
    from storage.filesystem import FilesystemStorage

    _check_options(location, set())
    if not location.path.is_absolute():
        raise _bad(location, location.url, Text("cần dạng file:///đường/dẫn/tuyệt/đối",
                                                "expected file:///absolute/path"))
    return FilesystemStorage(location.path, name=location.name)


def _open_s3(location: StorageLocation) -> Storage:
    from storage.s3 import S3Storage  # boto3 is imported only where S3 is configured

    opts = location.options
    _check_options(location, {"endpoint", "region", "lock_mode", "lock_days"})
    if not location.bucket:
        raise _bad(location, location.url, Text("cần dạng s3://bucket", "expected s3://bucket"))
    days = opts.get("lock_days")
    if days is not None and not days.isdigit():
        raise _bad(location, days, Text("lock_days phải là số ngày nguyên dương",
                                        "lock_days must be a positive whole number of days"))
    try:
        return S3Storage(location.bucket, endpoint_url=opts.get("endpoint"), region=opts.get("region"),
                         lock_mode=opts.get("lock_mode"), lock_days=int(days) if days else None,
                         name=location.name)
    except ConfigError as exc:
        raise _bad(location, location.url, Text(exc.message("vi"), exc.message("en"))) from None


_OPENERS: dict[str, Callable[[StorageLocation], Storage]] = {"file": _open_file, "s3": _open_s3}


def open_storage(location: StorageLocation) -> Storage:
    """The backend for ``location``, chosen by its URL scheme."""
    opener = _OPENERS.get(location.scheme)
    if opener is None:
        raise _bad(location, location.url, Text(
            f"giao thức không được hỗ trợ; dùng một trong {', '.join(_OPENERS)}",
            f"unsupported scheme; expected one of {', '.join(_OPENERS)}"))
    return opener(location)


def check_locations(locations: Iterable[StorageLocation]) -> list[LocationHealth]:
    """Health of every location; a location that cannot even be opened is reported down."""
    report: list[LocationHealth] = []
    for location in locations:
        try:
            report.append(open_storage(location).health())
        except ConfigError as exc:
            report.append(LocationHealth(location.name, False, exc.message("en")))
    return report
