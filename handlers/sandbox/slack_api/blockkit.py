"""Block Kit as Slack checks it: the errors it answers for blocks and views, and the ids it fills in."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
_TEXT_TYPES = ("plain_text", "mrkdwn")
_TEXT_FIELDS = frozenset(
    {"text", "label", "placeholder", "hint", "title", "submit", "close", "description", "confirm", "deny"}
)
_PLAIN_ONLY_FIELDS = frozenset({"label", "placeholder", "hint", "title", "submit", "close", "confirm", "deny"})
_PLAIN_TEXT_OWNERS = frozenset({"header", "button", "workflow_button"})
_OPTION_KEYS = frozenset({"options", "option_groups", "initial_option", "initial_options"})
_CHECKED_BLOCKS = frozenset(
    {"section", "divider", "image", "actions", "context", "input", "header", "video", "file", "call"}
)


def _short_id(seed: str) -> str:
    digest = hashlib.sha1(seed.encode()).digest()
    return base64.b64encode(digest).decode("ascii").replace("+", "").replace("/", "")[:5]


def _with_block_ids(blocks: Any, seed: str) -> Any:
    """Add the block_id / action_id Slack generates when a block or element has none."""
    if not isinstance(blocks, list):
        return blocks
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _short_id(f"{seed}:{index}"))
        for pos, element in enumerate(_interactive_elements(block)):
            if element.get("type") != "image":
                element.setdefault("action_id", _short_id(f"{seed}:{index}:{pos}"))
    return blocks


def _interactive_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    if block.get("type") == "actions":
        found.extend(e for e in block.get("elements") or [] if isinstance(e, dict))
    return found


def _block_errors(blocks: Any, *, limit: int, pointer: str) -> list[str]:
    """Slack-style error strings for a list of Block Kit blocks (empty when valid)."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"no more than {limit} items allowed [json-pointer:{pointer}]")
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(block, dict):
            errors.append(f"must provide an object [json-pointer:{where}]")
            continue
        try:
            parsed = Block.parse(block)
            if parsed is None:
                errors.append(f"unsupported block type {block.get('type')!r} [json-pointer:{where}/type]")
                continue
            rendered = parsed.to_dict()
        except Exception as exc:
            errors.append(f"{exc} [json-pointer:{where}]")
            continue
        errors.extend(_none_errors(rendered, where))
        errors.extend(_structure_errors(block, where))
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                errors.append(f"duplicate block_id {block_id!r} [json-pointer:{where}/block_id]")
            seen.add(block_id)
    return errors


def _none_errors(node: Any, where: str) -> list[str]:
    """Elements the SDK could not parse show up as None in its output."""
    if isinstance(node, list):
        return [
            e
            for i, item in enumerate(node)
            for e in (
                [f"unsupported element [json-pointer:{where}/{i}]"]
                if item is None
                else _none_errors(item, f"{where}/{i}")
            )
        ]
    if isinstance(node, dict):
        return [e for key, value in node.items() for e in _none_errors(value, f"{where}/{key}")]
    return []


def _structure_errors(block: dict[str, Any], where: str) -> list[str]:
    """Checks Slack enforces that the SDK models let through."""
    kind = block.get("type")
    if kind not in _CHECKED_BLOCKS:
        return []
    errors: list[str] = []
    if kind in ("actions", "context") and not block.get("elements"):
        errors.append(f"must provide at least 1 items [json-pointer:{where}/elements]")
    _walk(block, where, errors, plain_options=False)
    action_ids = [e.get("action_id") for e in _interactive_elements(block) if e.get("action_id")]
    for action_id in {a for a in action_ids if action_ids.count(a) > 1}:
        errors.append(f"duplicate action_id {action_id!r} [json-pointer:{where}]")
    return errors


def _walk(node: Any, where: str, errors: list[str], *, plain_options: bool) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _walk(item, f"{where}/{index}", errors, plain_options=plain_options)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in _TEXT_TYPES:
        _check_text_object(node, where, errors, plain=False)
        return
    if kind == "rich_text":
        return
    for key, value in node.items():
        at = f"{where}/{key}"
        if key in _TEXT_FIELDS:
            if key == "confirm" and isinstance(value, dict) and "type" not in value:
                _walk(value, at, errors, plain_options=False)
                continue
            plain_text_owner = kind in _PLAIN_TEXT_OWNERS or plain_options
            plain = key in _PLAIN_ONLY_FIELDS or (key == "text" and plain_text_owner)
            _check_text_object(value, at, errors, plain=plain)
        elif key == "fields" and isinstance(value, list):
            for index, item in enumerate(value):
                _check_text_object(item, f"{at}/{index}", errors, plain=False)
        elif isinstance(value, (dict, list)):
            select = isinstance(kind, str) and (kind.endswith("select") or kind == "overflow")
            _walk(value, at, errors, plain_options=plain_options or (select and key in _OPTION_KEYS))


def _check_text_object(value: Any, where: str, errors: list[str], *, plain: bool) -> None:
    if not isinstance(value, dict):
        errors.append(f"must provide an object [json-pointer:{where}]")
    elif value.get("type") not in _TEXT_TYPES:
        errors.append(f"must be a valid enum value [json-pointer:{where}/type]")
    elif plain and value["type"] != "plain_text":
        errors.append(f"must be plain_text [json-pointer:{where}/type]")
    elif not isinstance(value.get("text"), str) or not value["text"]:
        errors.append(f"must be more than 0 characters [json-pointer:{where}/text]")


def _view_errors(view: Any) -> list[str]:
    """Slack-style error strings for a modal or home view (empty when valid)."""
    if not isinstance(view, dict):
        return ["must provide an object [json-pointer:/view]"]
    errors: list[str] = []
    if view.get("type") not in ("modal", "home"):
        errors.append("must be a valid enum value [json-pointer:/view/type]")
    try:
        View(**view).to_dict()
    except Exception as exc:
        errors.append(f"{exc} [json-pointer:/view]")
    errors.extend(_block_errors(view.get("blocks"), limit=MAX_VIEW_BLOCKS, pointer="/view/blocks"))
    if view.get("type") == "modal":
        if "title" not in view:
            errors.append("missing required field: title [json-pointer:/view]")
        for key in ("title", "submit", "close"):
            if key in view and view[key] is not None:
                _check_text_object(view[key], f"/view/{key}", errors, plain=True)
        blocks: list[Any] = view["blocks"] if isinstance(view.get("blocks"), list) else []
        if not view.get("submit") and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks):
            errors.append("must provide submit if blocks contain input [json-pointer:/view/submit]")
    return list(dict.fromkeys(errors))
