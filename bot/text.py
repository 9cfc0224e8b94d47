"""The text catalog: every user-facing string, in English and Simplified Chinese."""

from __future__ import annotations

import re
import string
from typing import Any

LANGS = ("en", "zh")

EN: dict[str, str] = {
    # modal
    "modal.title": "Requirement sheet",
    "modal.title_edit": "Edit {code}",
    "modal.submit": "Post",
    "modal.submit_edit": "Save revision",
    "modal.close": "Cancel",
    "modal.intro": "Fill in the sheet. Both owners sign it in the channel with ✅ or the Confirm button.",
    "field.requester_dept": "Requesting department",
    "field.requester_owner": "Requester owner",
    "field.receiver_dept": "Receiving department",
    "field.receiver_owner": "Receiver owner",
    "field.background": "Background",
    "field.goal": "Core goal (measurable)",
    "field.description": "Description",
    "field.priority": "Priority",
    "field.due": "Expected completion",
    "field.resources": "Resources needed",
    "field.open_questions": "Open questions",
    "field.confirm_by": "Sign by",
    "field.channel": "Post to",
    "hint.open_questions": "One question a line. Optionally name an owner and a deadline: "
    "Which API version? — @alice — tomorrow 3pm. Without them: the receiver owner, 24 hours.",
    "hint.confirm_by": "Both owners are reminded before this time.",
    "placeholder.due": "e.g. next Friday, Dec 20, end of month, 下周五",
    "placeholder.confirm_by": "e.g. tomorrow 6pm, in 24 hours, 明天下午3点",
    "default.confirm_by": "in 24 hours",
    "echo.date": "→ {when}",
    "echo.empty_due": "Type a date in your own words; a date without a time means the end of that working day.",
    "echo.empty_confirm_by": "Type when both owners must have signed.",
    "echo.empty_open_questions": "No open questions.",
    "echo.question": "{n}. {owner} · {when}",
    "echo.receiver": "the receiver owner",
    "echo.in_24h": "24 hours after posting",
    "hint.goal": "What success looks like, in numbers where possible.",
    "priority.high": "High",
    "priority.medium": "Medium",
    "priority.low": "Low",
    # sheet
    "sheet.header": "{code} · Requirement sheet",
    "sheet.code": "Requirement ID",
    "sheet.fallback": "{code}: requirement sheet for {requester} and {receiver}, to sign by {when}",
    "sheet.requester": "Requester",
    "sheet.receiver": "Receiver",
    "sheet.status": "Status",
    "sheet.revision": "revision {n}",
    "sheet.sign_by": "Sign by {when}",
    "sheet.signatures": "Signatures",
    "sheet.signed": "✅ {user} signed {when}",
    "sheet.unsigned": "⏳ {user} has not signed yet",
    "sheet.how_to_sign": "Owners: add ✅ to this message or press Confirm.",
    "sheet.locked": "🔒 Confirmed {when}. Editing starts a new revision that needs both signatures.",
    "sheet.change_reason": "Changes requested by {user}: {reason}",
    "sheet.no_questions": "None",
    "sheet.question": "{n}. {text} — {owner}, by {when}",
    "sheet.question_answered": "{n}. ~{text}~ — answered by {user}",
    "sheet.more_questions": "… and {n} more",
    "status.awaiting": "Awaiting signatures",
    "status.confirmed": "Confirmed",
    "status.changes_requested": "Changes requested",
    "button.confirm": "Confirm",
    "button.request_changes": "Request changes",
    "button.edit": "Edit",
    "button.answered": "Mark answered",
    "thread.confirmed": "{code} is confirmed by {requester} and {receiver}. The record is locked.",
    "thread.revised": "{user} saved revision {n} of {code}. Both owners need to sign again.",
    "thread.changes_requested": "{user} requested changes to {code}: {reason}",
    # request changes modal
    "changes.title": "Request changes",
    "changes.label": "What needs to change?",
    "changes.submit": "Send",
    # reminders and notices
    "remind.sign": "Reminder: *{code}* awaits your signature by {when}. <{link}|Open the sheet> and add ✅ or press Confirm.",
    "remind.overdue": "*{code}* was not signed by {when}. Still missing: {who}. <{link}|Open the sheet>",
    "remind.question": "An open question on *{code}* needs your answer by {when}:\n>{text}\n<{link}|Open the sheet>",
    "notify.changes_requested": "{user} requested changes to *{code}*:\n>{reason}\nEdit the sheet to send a new revision. <{link}|Open the sheet>",
    # ephemeral replies
    "reply.signed": "You signed {code}.",
    "reply.already_signed": "You have already signed {code}.",
    "reply.posted": "Posted {code} in {channel}.",
    "reply.question_answered": "Marked as answered.",
    "reply.changes_sent": "Sent your change request on {code} to {user}.",
    "reply.not_in_channel": "I can't post in {channel}. Invite me there (/invite @coordbot) or pick another channel.",
    # lists and record view
    "list.awaiting_title": "Awaiting your signature",
    "list.none_awaiting": "Nothing awaits your signature.",
    "list.channel_title": "Latest in this channel",
    "list.none_channel": "No requirement sheets in this channel yet.",
    "list.line": "*{code}* · {status} · {requester} → {receiver} · sign by {when}",
    "view.history": "History",
    "view.open_message": "<{link}|Open the sheet>",
    "history.created": "{when} · {user} created revision 1",
    "history.signed": "{when} · {user} signed revision {revision}",
    "history.withdrawn": "{when} · {user} withdrew a signature on revision {revision}",
    "history.confirmed": "{when} · confirmed (revision {revision})",
    "history.changes_requested": "{when} · {user} requested changes: {reason}",
    "history.revised": "{when} · {user} saved revision {revision}",
    "history.question_answered": "{when} · {user} marked question {question} answered",
    "help.requirement": "*/requirement* opens a new requirement sheet.\n"
    "*/requirement list* shows what awaits your signature and this channel's latest sheets.\n"
    "*/requirement RW-2026-001* shows one record with its history.\n"
    "*/requirement help* shows this text.",
    # App Home and channel settings
    "home.title": "coordbot",
    "home.lang_label": "*Language* for what coordbot sends you",
    "home.lang_auto": "Automatic (from Slack)",
    "home.help": "/requirement opens a requirement sheet · /requirement list shows what awaits you · /digest lang sets a channel's language",
    "help.digest": "*/digest lang zh*, */digest lang en* or */digest lang auto* sets the language of what coordbot posts in this channel (auto: the workspace default).",
    "reply.channel_lang": "coordbot now posts in {language} in {channel}.",
    "lang.en": "English",
    "lang.zh": "Chinese (中文)",
    # errors
    "error.generic": "Something went wrong on our side. Please try again; if it keeps happening, quote reference {ref}.",
    "error.validation": "Please check the highlighted fields.",
    "error.not_allowed": "You are not allowed to do that.",
    "error.not_found": "That record no longer exists.",
    "error.conflict": "That can't be done in the record's current state.",
    "error.requirement_not_found": "There is no requirement {code}.",
    "error.only_owners_sign": "Only the two owners of {code} can sign it.",
    "error.only_owners_request_changes": "Only the owners of {code} can request changes.",
    "error.only_requester_edits": "Only the requester owner or the author can edit this record.",
    "error.only_question_owner": "Only the question's owner or the sheet's owners can mark it answered.",
    "error.already_confirmed": "{code} is already confirmed and locked. Edit it to start a new revision.",
    "error.changes_requested_sign": "Changes were requested on {code}; it can be signed once a new revision is saved.",
    "error.stale_revision": "{code} has changed since you opened it (now revision {revision}). Open Edit again.",
    "error.unknown_language": "Choose one of: {langs}.",
    "error.required": "This field is required.",
    "error.too_long": "Keep it under {max} characters.",
    "error.in_past": "This time has already passed.",
    "error.confirm_after_due": "Signatures must be due before the expected completion.",
    "error.unparseable_date": "I couldn't read a date in “{text}”.",
    "error.too_many_questions": "At most {max} open questions per sheet.",
    "error.question_too_long": "Line {line} is longer than {max} characters.",
    "error.question_deadline_past": "The deadline on line {line} has already passed.",
    "error.question_bad_deadline": "Line {line}: I couldn't read a date in “{text}”.",
    "error.question_empty": "Line {line} has no question.",
    "error.unknown_person": "Nobody in this workspace is called @{name}.",
    "error.ambiguous_person": "Several people match @{name} ({names}); mention the one you mean.",
    "error.unknown_command": "I don't know “{text}”. Try /requirement help.",
}

ZH: dict[str, str] = {
    "modal.title": "需求沟通与确认表",
    "modal.title_edit": "编辑 {code}",
    "modal.submit": "发布",
    "modal.submit_edit": "保存新版本",
    "modal.close": "取消",
    "modal.intro": "填写需求表。双方负责人在频道中点 ✅ 或按“确认签字”完成签字。",
    "field.requester_dept": "需求方部门",
    "field.requester_owner": "需求方负责人",
    "field.receiver_dept": "承接方部门",
    "field.receiver_owner": "承接方负责人",
    "field.background": "需求背景",
    "field.goal": "核心目标（可衡量）",
    "field.description": "具体需求描述",
    "field.priority": "优先级",
    "field.due": "期望完成时间",
    "field.resources": "配合资源",
    "field.open_questions": "待确认事项",
    "field.confirm_by": "确认签字截止时间",
    "field.channel": "发布到频道",
    "hint.open_questions": "每行一项。可写负责人和反馈时间：接口用哪个版本？— @alice — 明天下午3点。"
    "不写则默认承接方负责人、24 小时内反馈。",
    "hint.confirm_by": "截止前会提醒双方负责人。",
    "placeholder.due": "例如：下周五、12月20日、月底、next Friday",
    "placeholder.confirm_by": "例如：明天下午6点、24小时内、tomorrow 3pm",
    "default.confirm_by": "24小时内",
    "echo.date": "→ {when}",
    "echo.empty_due": "用自己的话写日期；只写日期时按当天下班时间计。",
    "echo.empty_confirm_by": "写明双方负责人最晚何时签字。",
    "echo.empty_open_questions": "暂无待确认事项。",
    "echo.question": "{n}. {owner} · {when}",
    "echo.receiver": "承接方负责人",
    "echo.in_24h": "发布后 24 小时内",
    "hint.goal": "写清成功的标准，尽量量化。",
    "priority.high": "高",
    "priority.medium": "中",
    "priority.low": "低",
    "sheet.header": "{code} · 需求沟通与确认表",
    "sheet.code": "需求编号",
    "sheet.fallback": "{code}：{requester} 与 {receiver} 的需求确认表，请于 {when} 前签字",
    "sheet.requester": "需求方",
    "sheet.receiver": "承接方",
    "sheet.status": "状态",
    "sheet.revision": "第 {n} 版",
    "sheet.sign_by": "请于 {when} 前签字",
    "sheet.signatures": "确认签字",
    "sheet.signed": "✅ {user} 已于 {when} 签字",
    "sheet.unsigned": "⏳ {user} 尚未签字",
    "sheet.how_to_sign": "负责人：在本消息上加 ✅ 或按“确认签字”。",
    "sheet.locked": "🔒 已于 {when} 确认。编辑将生成新版本，需双方重新签字。",
    "sheet.change_reason": "{user} 要求修改：{reason}",
    "sheet.no_questions": "无",
    "sheet.question": "{n}. {text} — {owner}，{when} 前反馈",
    "sheet.question_answered": "{n}. ~{text}~ — {user} 已答复",
    "sheet.more_questions": "…… 另有 {n} 项",
    "status.awaiting": "待签字确认",
    "status.confirmed": "已确认",
    "status.changes_requested": "需修改",
    "button.confirm": "确认签字",
    "button.request_changes": "要求修改",
    "button.edit": "编辑",
    "button.answered": "标记已答复",
    "thread.confirmed": "{code} 已由 {requester} 和 {receiver} 确认签字，记录已锁定。",
    "thread.revised": "{user} 保存了 {code} 的第 {n} 版，需双方重新签字。",
    "thread.changes_requested": "{user} 要求修改 {code}：{reason}",
    "changes.title": "要求修改",
    "changes.label": "需要修改什么？",
    "changes.submit": "发送",
    "remind.sign": "提醒：*{code}* 需要你在 {when} 前签字。<{link}|打开需求表>，加 ✅ 或按“确认签字”。",
    "remind.overdue": "*{code}* 未能在 {when} 前完成签字。尚未签字：{who}。<{link}|打开需求表>",
    "remind.question": "*{code}* 有一项待确认事项需要你在 {when} 前反馈：\n>{text}\n<{link}|打开需求表>",
    "notify.changes_requested": "{user} 要求修改 *{code}*：\n>{reason}\n请编辑需求表并提交新版本。<{link}|打开需求表>",
    "reply.signed": "你已签字确认 {code}。",
    "reply.already_signed": "你已经签过 {code} 了。",
    "reply.posted": "已在 {channel} 发布 {code}。",
    "reply.question_answered": "已标记为已答复。",
    "reply.changes_sent": "已将你对 {code} 的修改意见发给 {user}。",
    "reply.not_in_channel": "我无法在 {channel} 发消息。请先邀请我（/invite @coordbot），或换一个频道。",
    "list.awaiting_title": "等待你签字",
    "list.none_awaiting": "没有等待你签字的需求。",
    "list.channel_title": "本频道最新需求",
    "list.none_channel": "本频道还没有需求确认表。",
    "list.line": "*{code}* · {status} · {requester} → {receiver} · {when} 前签字",
    "view.history": "变更记录",
    "view.open_message": "<{link}|打开需求表>",
    "history.created": "{when} · {user} 创建第 1 版",
    "history.signed": "{when} · {user} 签字确认第 {revision} 版",
    "history.withdrawn": "{when} · {user} 撤回了第 {revision} 版的签字",
    "history.confirmed": "{when} · 第 {revision} 版已确认",
    "history.changes_requested": "{when} · {user} 要求修改：{reason}",
    "history.revised": "{when} · {user} 保存第 {revision} 版",
    "history.question_answered": "{when} · {user} 标记第 {question} 项待确认事项已答复",
    "help.requirement": "*/requirement* 新建需求沟通与确认表。\n"
    "*/requirement list* 查看等待你签字的需求和本频道最新需求。\n"
    "*/requirement RW-2026-001* 查看某条记录及其变更记录。\n"
    "*/requirement help* 显示本说明。",
    "home.title": "coordbot",
    "home.lang_label": "coordbot 发给你的消息使用的*语言*",
    "home.lang_auto": "自动（跟随 Slack）",
    "home.help": "/requirement 新建需求确认表 · /requirement list 查看待办 · /digest lang 设置频道语言",
    "help.digest": "*/digest lang zh*、*/digest lang en* 或 */digest lang auto* 设置 coordbot 在本频道发帖的语言（auto：工作区默认语言）。",
    "reply.channel_lang": "coordbot 在 {channel} 将使用{language}发帖。",
    "lang.en": "英文",
    "lang.zh": "中文",
    "error.generic": "处理时出错了，请重试；若一直出现，请提供编号 {ref}。",
    "error.validation": "请检查标出的字段。",
    "error.not_allowed": "你没有权限进行此操作。",
    "error.not_found": "该记录已不存在。",
    "error.conflict": "记录当前状态下无法进行此操作。",
    "error.requirement_not_found": "没有编号为 {code} 的需求。",
    "error.only_owners_sign": "只有 {code} 的双方负责人可以签字。",
    "error.only_owners_request_changes": "只有 {code} 的负责人可以要求修改。",
    "error.only_requester_edits": "只有需求方负责人或填写人可以编辑。",
    "error.only_question_owner": "只有该事项的负责人或需求表负责人可以标记已答复。",
    "error.already_confirmed": "{code} 已确认并锁定。如需变更，请编辑生成新版本。",
    "error.changes_requested_sign": "{code} 已被要求修改，新版本保存后才能签字。",
    "error.stale_revision": "{code} 在你打开后已被修改（现为第 {revision} 版），请重新点编辑。",
    "error.unknown_language": "请从以下语言中选择：{langs}。",
    "error.required": "此项必填。",
    "error.too_long": "请控制在 {max} 字以内。",
    "error.in_past": "这个时间已经过去了。",
    "error.confirm_after_due": "签字截止时间应早于期望完成时间。",
    "error.unparseable_date": "无法识别“{text}”中的日期。",
    "error.too_many_questions": "每张需求表最多 {max} 项待确认事项。",
    "error.question_too_long": "第 {line} 行超过 {max} 字。",
    "error.question_deadline_past": "第 {line} 行的反馈时间已经过去。",
    "error.question_bad_deadline": "第 {line} 行：无法识别“{text}”中的日期。",
    "error.question_empty": "第 {line} 行没有写问题。",
    "error.unknown_person": "工作区里没有名为 @{name} 的成员。",
    "error.ambiguous_person": "有多位成员匹配 @{name}（{names}），请直接 @ 提及。",
    "error.unknown_command": "无法识别“{text}”。试试 /requirement help。",
}

CATALOG: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


def normalize_lang(value: str | None, default: str = "en") -> str:
    """Map a Slack locale such as zh-CN or en-US to a catalog language."""
    if not value:
        return default
    value = value.lower()
    if value.startswith("zh"):
        return "zh"
    if value.startswith("en"):
        return "en"
    return default


def t(lang: str, key: str, **params: Any) -> str:
    """The text for `key` in `lang` (English when missing), with `{placeholders}` filled."""
    template = CATALOG.get(lang, EN).get(key) or EN.get(key) or key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return string.Formatter().vformat(template, (), _Lenient(params))


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def text_lang(text: str, fallback: str) -> str:
    """The language typed text is written in: zh with Han characters, else en with Latin letters, else fallback."""
    if _CJK.search(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return fallback


def placeholders(template: str) -> set[str]:
    """The placeholder names a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
