"""What the paper repository tests (#15/#16) share: a repository K1 with shelf G2 and boxes
H3 and H4, paper hồ sơ registered through the API, and JSON calls as a role."""

from __future__ import annotations

import datetime as dt

PAPER = "TTLTNA.K1/G2/H3.15"  # the catalog's PaperFileCode form, slashes included
TODAY = dt.date.today()


def post(api, url, body, role="archivist", method="post"):
    return getattr(api.client, method)(url, json=body, headers=api.headers(role))


def get(api, url, role="archivist"):
    return api.client.get(url, headers=api.headers(role))


def store(api, *, capacity=2):
    assert post(api, "/api/v1/repositories", {"code": "K1", "name": "Kho số 1",
                                              "area_m2": 120.5}).status_code == 201
    assert post(api, "/api/v1/repositories/K1/shelves", {"code": "G2"}).status_code == 201
    resp = post(api, "/api/v1/repositories/K1/boxes",
                {"shelf": "G2", "code": "H3", "capacity": capacity})
    assert resp.status_code == 201, resp.json
    assert post(api, "/api/v1/repositories/K1/boxes",
                {"shelf": "G2", "code": "H4", "capacity": 5}).status_code == 201


def paper(api, code=PAPER, box="H3", **extra):
    body = {"code": code, "repository": "K1", "shelf": "G2", "box": box,
            "title": "Hồ sơ thành lập Sở Nội vụ (bản giấy)", "maintenance": "01",
            "page_count": 40, "condition": "good", "fonds": "P623", "year": 2001, **extra}
    return post(api, "/api/v1/paper-files", body)


def codes(resp):
    return [resp.json["code"], *(i["code"] for i in resp.json.get("issues", []))]
