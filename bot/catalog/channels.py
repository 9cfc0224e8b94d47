"""Texts about the channels the bot is in: joining, invitations, being removed."""

from __future__ import annotations

EN: dict[str, str] = {
    "channel.error.invite_first": "I'm not in this private channel. Type /invite @coordbot in it, then submit again.",
    "channel.error.archived": "This channel is archived. Pick another one.",
    "channel.unposted": "I couldn't post {code} in {channel}: I'm not a member of that private channel. "
    "Type /invite @coordbot there, then press Post again. {code} is saved and waits.",
    "channel.unposted_archived": "I couldn't post {code} in {channel}: the channel is archived. {code} is saved; "
    "find it with its ID.",
    "channel.post_again": "Post again",
    "channel.posted_again": "Posted {code} in {channel}.",
    "channel.already_posted": "{code} is already posted in {channel}.",
    "channel.still_unreachable": "I'm still not in {channel}. Type /invite @coordbot there first.",
    "channel.removed": "I was removed from {channel}, so I no longer see ✅ and 📌 there. "
    "These records live in it: {codes}. Invite me back with /invite @coordbot to keep them working.",
}

ZH: dict[str, str] = {
    "channel.error.invite_first": "我不在这个私有频道中。请在频道里输入 /invite @coordbot，然后重新提交。",
    "channel.error.archived": "该频道已归档，请换一个频道。",
    "channel.unposted": "我无法在 {channel} 发布 {code}：我不是这个私有频道的成员。请在频道里输入 /invite @coordbot，"
    "然后点击“重新发布”。{code} 已保存，等待发布。",
    "channel.unposted_archived": "我无法在 {channel} 发布 {code}：该频道已归档。{code} 已保存，可用编号查看。",
    "channel.post_again": "重新发布",
    "channel.posted_again": "已在 {channel} 发布 {code}。",
    "channel.already_posted": "{code} 已发布在 {channel}。",
    "channel.still_unreachable": "我仍不在 {channel} 中。请先在频道里输入 /invite @coordbot。",
    "channel.removed": "我已被移出 {channel}，因此看不到那里的 ✅ 和 📌。以下记录位于该频道：{codes}。"
    "请用 /invite @coordbot 重新邀请我，以便继续跟进。",
}
