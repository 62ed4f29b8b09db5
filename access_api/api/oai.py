"""OAI-PMH 2.0 (oai_dc) cho hồ sơ công khai (public records).

``GET /oai?verb=…`` and ``POST /oai`` with a form-encoded body (the protocol allows both,
§3.1.1); XML answers, outside the OpenAPI document (it is not a JSON API). Anonymous: the
service disseminates only what every reader may see.
"""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response, current_app, request

from access_api.api.base import services
from access_api.services import oai as oai_service

bp = APIBlueprint("oai", __name__, url_prefix="" or None, tag="oai")

CONTENT_TYPE = "text/xml; charset=utf-8"


@bp.route("/oai", methods=["GET", "POST"])
@bp.doc(hide=True)
def oai() -> Response:
    args = request.form if request.method == "POST" else request.args
    body = oai_service.handle(
        services(), {k: args.getlist(k) for k in args}, request.base_url,
        page_size=current_app.config.get("KHOSO_OAI_PAGE_SIZE", oai_service.PAGE_SIZE))
    return Response(body, content_type=CONTENT_TYPE)
