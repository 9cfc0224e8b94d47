"""Uploading files the Web API way: files.getUploadURLExternal, a POST of the bytes, files.completeUploadExternal.

The upload URL is on the fake itself (``/upload/v1/<ticket>``, where Slack's is on files.slack.com); the server
hands POSTs there to ``_receive_upload``.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from handlers.sandbox.slack_api.calls import Call, SlackApiFailure, _parse_params, _require
from handlers.sandbox.slack_api.messages import Messages
from handlers.sandbox.slack_api.workspace import BOT

UPLOAD_PATH = "/upload/v1/"
UPLOAD_METHOD = "upload"  # how a POST to an upload URL is recorded (and what ``fail()`` takes to fail one)
MAX_FILE_BYTES = 1024 * 1024 * 1024  # Slack takes files up to 1 GB
MIME_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "txt": "text/plain"}


@dataclass
class UploadedFile:
    """One file from its ticket to its share: what was declared, what arrived, and where it was shared."""

    id: str
    ticket: str
    filename: str
    length: int  # as declared to files.getUploadURLExternal
    alt_txt: str | None
    created: int
    data: bytes | None = None  # what the POST to the upload URL carried (None: nothing yet)
    content_type: str = ""  # that POST's Content-Type
    title: str | None = None
    channel: str | None = None  # set by files.completeUploadExternal
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False
    message_ts: str | None = None  # the message that shares it

    @property
    def size(self) -> int:
        """Bytes received at the upload URL."""
        return len(self.data or b"")


class FileMethods(Messages):
    """files.getUploadURLExternal and files.completeUploadExternal, and the uploads between them."""

    def __init__(self, *, team_id: str, app_id: str) -> None:
        super().__init__(team_id=team_id, app_id=app_id)
        self._uploads: dict[str, UploadedFile] = {}  # by file id

    def uploaded_files(self) -> list[UploadedFile]:
        """Every file an upload URL was asked for, in that order (copies)."""
        with self._lock:
            return [copy.deepcopy(f) for f in self._uploads.values()]

    def shared_file(self, file_id: str) -> tuple[bytes, str] | None:
        """A shared file's bytes and type (for the sandbox's page), or None when there is no such shared file."""
        with self._lock:
            found = self._uploads.get(file_id)
            if found is None or not found.completed or found.data is None:
                return None
            extension = found.filename.rsplit(".", 1)[-1].lower() if "." in found.filename else ""
            return found.data, MIME_TYPES.get(extension, "application/octet-stream")

    def has_upload_ticket(self, ticket: str) -> bool:
        """Whether an upload URL with this ticket was given out here (and not used up)."""
        with self._lock:
            return any(f.ticket == ticket and not f.completed for f in self._uploads.values())

    def _upload_url(self, ticket: str) -> str:
        """Where the bytes of an upload go: the fake's own address (the server knows it)."""
        raise NotImplementedError

    def _files_get_upload_url_external(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "filename", "length")
        try:
            length = int(params["length"])
        except (TypeError, ValueError):
            raise SlackApiFailure("invalid_arguments") from None
        if length <= 0 or length > MAX_FILE_BYTES:
            raise SlackApiFailure("invalid_arguments")
        file_id = f"F{next(self._id_seq):010d}"
        ticket = secrets.token_urlsafe(16)
        self._uploads[file_id] = UploadedFile(
            id=file_id,
            ticket=ticket,
            filename=str(params["filename"]),
            length=length,
            alt_txt=str(params["alt_txt"]) if params.get("alt_txt") else None,
            created=int(time.time()),
        )
        return {"upload_url": self._upload_url(ticket), "file_id": file_id}

    def _receive_upload(self, ticket: str, raw: bytes, content_type: str) -> str:
        """The bytes POSTed to an upload URL, raw or as a multipart form; returns Slack's plain-text answer."""
        with self._lock:
            found = next((f for f in self._uploads.values() if f.ticket == ticket), None)
            if found is None or found.completed:
                raise SlackApiFailure("invalid_upload_url")
            data = raw
            if content_type.split(";")[0].strip().lower() == "multipart/form-data":
                parts = _parse_params("", raw, content_type)
                data = next((v for v in parts.values() if isinstance(v, bytes)), b"")
            found.data, found.content_type = data, content_type
            return f"OK - {len(data)}"

    def _files_complete_upload_external(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _require(params, "files")
        listed = params["files"]
        if isinstance(listed, str):
            try:
                listed = json.loads(listed)
            except ValueError:
                raise SlackApiFailure("invalid_arguments") from None
        if not isinstance(listed, list) or not listed or not all(isinstance(f, dict) and f.get("id") for f in listed):
            raise SlackApiFailure("invalid_arguments")
        uploads = self._uploads
        wanted = [uploads.get(str(f["id"])) for f in listed]
        files = [f for f in wanted if f is not None and f.data is not None and not f.completed]
        if len(files) != len(wanted):
            raise SlackApiFailure("file_not_found")  # never asked for, never uploaded, or completed already
        channel = self._share_channel(params)
        thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
        if thread_ts and channel is None:
            raise SlackApiFailure("invalid_arguments")
        for upload, entry in zip(files, listed, strict=True):
            upload.title = str(entry.get("title") or upload.filename)
            upload.channel, upload.thread_ts = channel, thread_ts
            upload.initial_comment = params.get("initial_comment") or None
            upload.completed = True
        if channel is not None:
            # the share is a message from the bot (in the thread, with thread_ts) that carries the files
            ts = self._store_bot_message(channel, {"text": params.get("initial_comment"), "thread_ts": thread_ts})["ts"]
            self._messages[(channel, ts)].update(files=[self._file_json(f) for f in files], upload=True)
            for upload in files:
                upload.message_ts = ts
        return {"files": [self._file_json(f) for f in files]}

    def _share_channel(self, params: dict[str, Any]) -> str | None:
        """Where the files are shared (None: kept private), checked as chat.postMessage checks a channel."""
        if not params.get("channel_id"):
            return None
        channel_id = self._resolve_channel(params["channel_id"])
        if not channel_id.startswith("D"):
            record = self._channel_record(channel_id)
            if record["is_private"] and not record["bot_is_member"]:
                raise SlackApiFailure("channel_not_found")
            if record.get("is_archived"):
                raise SlackApiFailure("is_archived")
        return channel_id

    def _file_json(self, upload: UploadedFile) -> dict[str, Any]:
        extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        shown: dict[str, Any] = {
            "id": upload.id,
            "created": upload.created,
            "timestamp": upload.created,
            "name": upload.filename,
            "title": upload.title or upload.filename,
            "mimetype": MIME_TYPES.get(extension, "application/octet-stream"),
            "filetype": extension or "binary",
            "user": BOT,
            "size": upload.size,
            "is_public": bool(upload.channel and not upload.channel.startswith(("D", "G"))),
            "url_private": f"https://files.slack.com/files-pri/{self.team_id}-{upload.id}/{upload.filename}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{BOT}/{upload.id}/{upload.filename}",
        }
        if upload.alt_txt:
            shown["alt_txt"] = upload.alt_txt
        return shown
