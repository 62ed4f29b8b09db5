"""The HTTP API (``/api/v1``): one blueprint module per resource; each parses the request,
calls one service function (``access_api.services``) and renders its result. No blueprint
touches the catalog or storage itself."""
