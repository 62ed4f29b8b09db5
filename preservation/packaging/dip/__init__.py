"""The DIP (gói thông tin khai thác, TT 05 Phụ lục V): the one module that writes a DIP and
reads it back (:mod:`.package`)."""
