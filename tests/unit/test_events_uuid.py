"""Event identifiers: valid, distinct version-4 UUIDs, also across a fork."""

from __future__ import annotations

import os
import uuid

from preservation.events import Event, Outcome, new_uuid


def test_new_uuids_are_distinct_version_4_uuids():
    made = [new_uuid() for _ in range(5000)]  # more than one 4 KiB draw
    assert len(set(made)) == 5000
    for text in made[:300] + made[-300:]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
    assert uuid.UUID(Event("validation", Outcome.SUCCESS).event_uuid).version == 4


def test_a_forked_child_does_not_repeat_the_parents_uuids():
    new_uuid()  # the parent holds unused randomness now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.write(write, new_uuid().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.waitpid(pid, 0)
    assert child != new_uuid()
