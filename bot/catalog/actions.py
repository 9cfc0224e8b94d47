"""Texts of action items (行动项): the card, its buttons, reminders and overdue notices."""

from __future__ import annotations

EN: dict[str, str] = {
    # the card
    "action.card_title": "*{code}* · {title}",
    "action.fallback": "{code}: {title} — {owner}, due {when}",
    "action.owner": "Owner",
    "action.due": "Due",
    "action.deliverable": "Deliverable",
    "action.no_deliverable": "—",
    "action.status": "Status",
    "action.source": "From",
    "action.blocked_reason": "Blocked: {reason}",
    "action.done_at": "✅ Done {when}",
    "action.status.open": "Open",
    "action.status.in_progress": "In progress",
    "action.status.blocked": "Blocked",
    "action.status.done": "Done",
    "action.button.accept": "Accept",
    "action.button.done": "Done",
    # replies
    "action.reply.unchanged": "{code} is already {status}.",
    # reminders and notices
    "action.remind": "Reminder: action item *{code}* is due {when}:\n>{title}",
    "action.overdue_owner": "Action item *{code}* was due {when} and is not done yet:\n>{title}\nPress Done when it is finished.",
    "action.overdue_escalate": "Action item *{code}* owned by {owner} was due {when} and is not done yet:\n>{title}",
    "action.open_message": "<{link}|Open the action item>",
    # errors
    "error.action_not_allowed": "Only the owner or the creator of this action item can change its status.",
    "error.action_not_found": "There is no action item {code}.",
    "error.action_item_title": "Action item {line}: say what needs doing.",
    "error.action_item_owner": "Action item {line} needs an owner.",
    "error.action_item_past": "Action item {line}: the due time has already passed.",
    "error.action_item_too_long": "Action item {line} is longer than {max} characters.",
}

ZH: dict[str, str] = {
    # the card
    "action.card_title": "*{code}* · {title}",
    "action.fallback": "{code}：{title} — 负责人 {owner}，截止时间 {when}",
    "action.owner": "负责人",
    "action.due": "截止时间",
    "action.deliverable": "输出物",
    "action.no_deliverable": "—",
    "action.status": "状态",
    "action.source": "来源",
    "action.blocked_reason": "受阻：{reason}",
    "action.done_at": "✅ 已于 {when} 完成",
    "action.status.open": "待开始",
    "action.status.in_progress": "进行中",
    "action.status.blocked": "受阻",
    "action.status.done": "已完成",
    "action.button.accept": "接受",
    "action.button.done": "完成",
    # replies
    "action.reply.unchanged": "{code} 已经是「{status}」状态。",
    # reminders and notices
    "action.remind": "提醒：行动项 *{code}* 的截止时间是 {when}：\n>{title}",
    "action.overdue_owner": "行动项 *{code}* 已超过截止时间 {when}，尚未完成：\n>{title}\n完成后请点「完成」。",
    "action.overdue_escalate": "{owner} 负责的行动项 *{code}* 已超过截止时间 {when}，尚未完成：\n>{title}",
    "action.open_message": "<{link}|打开行动项>",
    # errors
    "error.action_not_allowed": "只有该行动项的负责人或创建人可以更改其状态。",
    "error.action_not_found": "没有编号为 {code} 的行动项。",
    "error.action_item_title": "第 {line} 个行动项：请写明要做什么。",
    "error.action_item_owner": "第 {line} 个行动项需要指定负责人。",
    "error.action_item_past": "第 {line} 个行动项：截止时间已经过去。",
    "error.action_item_too_long": "第 {line} 个行动项超过 {max} 字。",
}
