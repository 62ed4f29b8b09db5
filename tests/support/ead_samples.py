"""Realistic, fully valid TT 05 records for every package × kind (values from a Nghệ An file)."""

from __future__ import annotations

from preservation.metadata.dates import TTDate
from preservation.metadata.ead import EadRecord

FILE = "H49.64.33.2001.160"
ARC_FILE = "TTLTNA.H49.64.33.2001.160"
TITLE = "Hồ sơ về việc thành lập Sở Nội vụ tỉnh Nghệ An năm 2001"

_HOSO = {
    "title": TITLE,
    "maintenance": "01",
    "mode": "01",
    "language": ("01",),
    "keyword": "thành lập; Sở Nội vụ; Nghệ An",
    "totalDoc": 137,
    "numberOfPaper": 250,
    "numberOfPage": 312,
    "format": "01",
    "inforSign": "NV.01",
    "confidenceLevel": "02",
    "paperFileCode": "TTLTNA.K1-G02-H015.160",
    "riskRecovery": True,
    "riskRecoveryStatus": "01",
    "description": "Người lập hồ sơ: Nguyễn Thị Hương, Văn phòng Sở Nội vụ.",
}
_DOC_COMMON = {
    "maintenance": "01",
    "typeName": "02",
    "codeNumber": "125",
    "codeNotation": "QĐ-UBND",
    "issuedDate": TTDate(2001, 3, 15),
    "subject": "Quyết định về việc thành lập Sở Nội vụ tỉnh Nghệ An",
    "language": ("01", "02"),
    "numberOfPage": 3,
    "inforSign": "QĐ.01",
    "keyword": "quyết định; thành lập",
    "mode": "02",
    "confidenceLevel": "01",
    "autograph": "Có bút phê của Chủ tịch Ủy ban nhân dân tỉnh",
    "format": "02",
    "riskRecovery": True,
    "riskRecoveryStatus": "02",
    "process": True,
    "description": "Bản chính, có dấu đỏ.",
}
_ORGAN = {"organName": "Ủy ban nhân dân tỉnh Nghệ An"}
_PIC = {
    "maintenance": "01",
    "typePic": "02",
    "archivesNumber": "A-2001-0042",
    "inforSign": "ANH.01",
    "eventName": "Lễ công bố quyết định thành lập Sở Nội vụ",
    "imageTitle": "Chủ tịch Ủy ban nhân dân tỉnh trao quyết định thành lập",
    "photographer": "Trần Văn Dũng",
    "photoPlace": "Thành phố Vinh, tỉnh Nghệ An",
    "photoTime": TTDate(2001, 4, 2),
    "colour": "01",
    "filmSize": "10x15 cm",
    "docAttached": True,
    "mode": "01",
    "format": "01",
    "riskRecovery": False,
    "description": "Ảnh màu, rõ nét.",
}
_MEDIA = {
    "maintenance": "01",
    "typeMedia": "02",
    "archivesNumber": "V-2001-0007",
    "inforSign": "PS.01",
    "eventName": "Lễ ra mắt Sở Nội vụ tỉnh Nghệ An",
    "movieTitle": "Phóng sự lễ ra mắt Sở Nội vụ",
    "recorder": "Đài Phát thanh và Truyền hình Nghệ An",
    "recordPlace": "Hội trường Ủy ban nhân dân tỉnh",
    "recordDate": TTDate(2001, 4, 2),
    "language": ("01",),
    "playTime": "00:12:45",
    "docAttached": False,
    "mode": "01",
    "quality": "Bình thường",
    "format": "02",
    "riskRecovery": True,
    "riskRecoveryStatus": "01",
    "description": "Băng gốc VHS đã số hóa.",
}


def _without(values: dict, *names: str) -> dict:
    return {k: v for k, v in values.items() if k not in names}


SAMPLES: dict[tuple[str, str], dict[str, object]] = {
    ("SIP", "hoso"): {"fileCode": FILE, **_HOSO,
                      "startDate": TTDate(2001, 1, 2), "endDate": TTDate(2001, 12, 28)},
    ("AIP", "hoso"): {"arcFileCode": ARC_FILE, **_HOSO,
                      "startDate": TTDate(2001, 1), "endDate": TTDate(2001)},
    ("SIP", "doc"): {"docId": f"{FILE}.1", "docCode": f"{FILE}.0000001", **_DOC_COMMON, **_ORGAN},
    ("AIP", "doc"): {"arcFileCode": ARC_FILE, "docCode": f"{ARC_FILE}.0000001", "docOrdinal": 1,
                     **_without(_DOC_COMMON, "maintenance", "riskRecovery", "riskRecoveryStatus"),
                     "issuedDate": TTDate(2001, 3), **_ORGAN},
    ("DIP", "doc"): {"docId": f"{FILE}.1", "arcDocCode": f"{ARC_FILE}.0000001", **_DOC_COMMON},
    ("SIP", "pic"): {"docCode": f"{FILE}.0000002", **_PIC},
    ("AIP", "pic"): {"arcDocCode": f"{ARC_FILE}.0000002", **_PIC, "photoTime": TTDate(2001, 4)},
    ("DIP", "pic"): {"arcDocCode": f"{ARC_FILE}.0000002", **_PIC},
    ("SIP", "media"): {"docCode": f"{FILE}.0000003", **_MEDIA},
    ("AIP", "media"): {"arcDocCode": f"{ARC_FILE}.0000003", **_MEDIA},
    ("DIP", "media"): {"arcDocCode": f"{ARC_FILE}.0000003", **_MEDIA},
    ("SIP", "tailieu"): {"fileCode": "000.00.00.H41.2021.01.0000001",
                         "title": "Tài liệu rời lẻ về công tác cải cách hành chính năm 2021",
                         "source": True, "totalDoc": 12, "description": "Nộp lưu lần 1."},
    ("AIP", "tailieu"): {"arcFileCode": "TTLTNA.000.00.00.H41.2021.01.0000001",
                         "title": "Tài liệu rời lẻ về công tác cải cách hành chính năm 2021",
                         "source": "1", "description": "Nộp lưu lần 1."},
    ("DIP", "request"): {"requestID": "YC.2025.000123", "requestDate": TTDate(2025, 7, 15),
                         "purpose": "02", "purposeContent": "Phục vụ nghiên cứu lịch sử ngành Nội vụ",
                         "feeObjectType": "01", "researchTopic": "Lịch sử thành lập Sở Nội vụ Nghệ An",
                         "description": "Xin bản sao có xác thực."},
}


def sample(package: str, kind: str, **changes: object) -> EadRecord:
    """A valid record; ``changes`` override values, ``None`` removes one."""
    values = {**SAMPLES[(package, kind)], **changes}
    return EadRecord(package, kind, {k: v for k, v in values.items() if v is not None})


def xml(elements: list[tuple[str, str]], root: str = "simpledc") -> bytes:
    """Hand-made EAD bytes in the given element order (for liberal-reading tests)."""
    from xml.sax.saxutils import escape

    body = "".join(f"<{n}>{escape(t)}</{n}>" for n, t in elements)
    return f'<?xml version="1.0" encoding="UTF-8"?><{root}>{body}</{root}>'.encode()
