"""Reading a multipart/form-data body (an image upload) byte for byte."""

from __future__ import annotations

import re


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _multipart(raw: bytes, content_type: str) -> dict[str, bytes]:
    """A multipart/form-data body's parts by name, byte for byte (ValueError when it is not one)."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        raise ValueError("no boundary")
    chunks = raw.split(b"--" + boundary.group(1).encode("latin-1"))
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise ValueError("not a closed multipart body")
    parts: dict[str, bytes] = {}
    for chunk in chunks[1:-1]:
        head, sep, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep or not data.endswith(b"\r\n"):
            raise ValueError("a part without headers")
        disposition = next(
            (line for line in head.decode("utf-8").split("\r\n") if line.lower().startswith("content-disposition:")),
            "",
        )
        name = re.search(r'\bname="([^"]*)"', disposition)
        if name is None:
            raise ValueError("a part without a name")
        parts[name.group(1)] = data[:-2]
    return parts
