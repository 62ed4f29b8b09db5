"""Retention, legal holds and destruction (hủy tài liệu hết giá trị, TT 05 Chương VII,
TT 06/2025): appraisal (``appraisal``), legal holds (``holds``), destruction cases with their
council and decision (``cases``), execution (``execution``) and the destruction file kept in
storage (``record``)."""
