"""Image uploads (im.image.create): a multipart form of an image in a format Feishu takes, kept by its key."""

from __future__ import annotations

from typing import Any

from handlers.sandbox.feishu_api.calls import Call, FeishuApiFailure, _hex, _ok
from handlers.sandbox.feishu_api.workspace import Workspace

IMAGE_LIMIT = 10 * 1024 * 1024  # bytes of an uploaded image
IMAGE_TYPES = frozenset({"message", "avatar"})
IMAGE_INVALID_PARAM = 234001
IMAGE_TOO_LARGE = 234006
IMAGE_EMPTY = 234010
IMAGE_UNKNOWN_FORMAT = 234011
_IMAGE_MAGIC = (  # the formats the upload takes, by their first bytes (WEBP: RIFF....WEBP)
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


class ImageMethods(Workspace):
    """im.image.create."""

    def _im_image_create(self, call: Call, params: dict[str, str]) -> dict[str, Any]:
        if not call.files:
            raise FeishuApiFailure(IMAGE_INVALID_PARAM, "Invalid request param: a multipart form is expected.")
        if (call.body or {}).get("image_type") not in IMAGE_TYPES:
            raise FeishuApiFailure(IMAGE_INVALID_PARAM, "Invalid request param: image_type.")
        image = call.files.get("image")
        if image is None:
            raise FeishuApiFailure(IMAGE_INVALID_PARAM, "Invalid request param: image.")
        if not image:
            raise FeishuApiFailure(IMAGE_EMPTY, "File's size can't be 0.")
        if len(image) > IMAGE_LIMIT:
            raise FeishuApiFailure(IMAGE_TOO_LARGE, "The file size exceed the max value.")
        if image_format(image) is None:
            raise FeishuApiFailure(IMAGE_UNKNOWN_FORMAT, "Can't regonnize the image format.")
        h = _hex("image", self.app_id, str(next(self._seq)), length=34)  # img_v3_0238_073f1823-df2b-…-e293f18abcef
        image_key = f"img_v3_02{h[:2]}_{h[2:10]}-{h[10:14]}-{h[14:18]}-{h[18:22]}-{h[22:34]}"
        self.images[image_key] = image
        return _ok({"image_key": image_key})


def image_format(data: bytes) -> str | None:
    """The format of an image the upload takes (png, jpeg, gif, webp, bmp, ico, tiff), by its first bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((name for magic, name in _IMAGE_MAGIC if data.startswith(magic)), None)
