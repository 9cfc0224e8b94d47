"""Texts only Feishu (Lark) shows: its help, where forms go, and what a text command to the bot answered."""

from __future__ import annotations

EN: dict[str, str] = {
    "feishu.help": "*coordbot on Feishu*: type a command to me in a direct message, or @mention me in a group:\n"
    "• *需求* / */requirement*: a requirement sheet both owners sign (✅ 确认 or a ✅ reaction)\n"
    "• *行动项 @owner what by when* / */action*: an action item in one line (e.g. `行动项 @李雷 提交预算方案 下周五前`); "
    "typed as a reply to a message, the item is made from that message (`行动项 @李雷 下周五前`)\n"
    "• *会议* / */meeting*: a meeting with its agenda; *纪要* / */minutes MTG-…*: its minutes\n"
    "• *事故 SEV2 what is broken* / */incident*: declare an incident (a group chat is opened for it); "
    "in that chat *事故 拉人 @someone* adds people and *事故 解决* resolves it; "
    "*事故 统计 30* / */incident stats 30*: the incident numbers of the last 30 days (90 unless you say)\n"
    "• *我的* / */home*: your page, in our direct chat: sheets awaiting your signature, your open action items, "
    "your meetings and the minutes you owe, with their buttons\n"
    "• *周报* / */digest*: this group's weekly digest (now, and every Monday)\n"
    "• *语言 中文* / */lang en*, *时区 Asia/Tokyo*, or *设置*: the language and timezone I use with you; "
    "in a group, *语言 本群 中文* / */lang group en* sets the group's (*语言 本群 自动*: each reader's own)\n"
    "Forms come to you as cards in our direct chat; the records they make are posted in the group you typed in.",
    "feishu.form_sent": "I sent you the form in our direct chat.",
    "feishu.in_a_group": "Type this in the group where the record belongs (@mention me there): that is where it will be posted.",
    "feishu.saved": "Saved: it will be posted in a moment.",
    "feishu.done": "Done.",
    "feishu.lang_set": "I will write to you in English from now on.",
    "feishu.lang_usage": "Type *语言 中文* or */lang en*; in a group, *语言 本群 中文* or */lang group auto* for the group.",
    "feishu.group_lang_set": "{user} set this group's language: its cards are in {language} from now on.",
    "feishu.group_lang_auto": "{user} unset this group's language: its cards show each reader their own Feishu language.",
    "feishu.not_in_chat": "I cannot post in that group: add coordbot to it first (group settings → Bots), then try again.",
    "feishu.unknown": "I don't know “{text}”. Type *help* (or *帮助*) for what I can do.",
    "feishu.incident_chat": "{code} {title}",
    "feishu.incident_who": "Name who to add with an @mention: *事故 拉人 @李雷* (or *事故 角色 沟通 @李雷* for the comms lead).",
    "feishu.incident_opened": "{code} was declared by {declarer}: the incident's group chat is open, and this card is pinned in it.",
    "feishu.incident_elsewhere": "{code} ({severity}) was declared: {title}. Its group chat is open for the responders.",
    "feishu.digest_on": "This group now gets a weekly digest ({schedule}); here is this week's.",
    "feishu.no_digest_in_dm": "A digest belongs to a group: @mention me with *周报* in the group.",
    "feishu.hello": "👋 Hi! I keep your team's sign-offs, meetings, action items and incidents moving. Type *help* to start.",
    "feishu.pinned_timeline": "Pinned in the incident chat by {author}: {text}",
    "feishu.tz_set": "Times are shown to you in {tz} from now on.",
    "feishu.tz_usage": "Your times are shown in {tz}. Type *时区 Asia/Tokyo* (or */tz Europe/Berlin*) to change it.",
    "feishu.settings.title": "Your coordbot settings",
    "feishu.settings.intro": "Feishu does not tell coordbot your language or timezone: choose them here.",
    "feishu.settings.lang": "Language",
    "feishu.settings.tz": "Timezone",
    "feishu.settings.save": "Save",
    "feishu.settings.saved": "Saved. Times are shown to you in {tz}.",
    "feishu.form.chat": "Group",
    "feishu.card.title": "coordbot",
    "feishu.home.title": "My coordbot page",
    "feishu.home.as_of": "As of {when}",
    "feishu.home.summary": "{sign} to sign · {actions} action items · {late} overdue",
    "feishu.home.hint": "Type *我的* (or */home*) to me any time to see this page up to date. "
    "Each button here does what it does on the record's own card.",
    "feishu.stats.scope": "This organization, the last {days} days",
}

ZH: dict[str, str] = {
    "feishu.help": "*飞书上的 coordbot*：私聊我输入命令，或在群里 @我：\n"
    "• *需求* / */requirement*：需求沟通与确认表，双方负责人签字（点 ✅ 确认，或加 ✅ 表情）\n"
    "• *行动项 @负责人 事项 截止时间* / */action*：一行创建行动项（例如 `行动项 @李雷 提交预算方案 下周五前`）；"
    "回复某条消息时输入（`行动项 @李雷 下周五前`），即以该消息创建行动项\n"
    "• *会议* / */meeting*：带议程的会议；*纪要* / */minutes MTG-…*：会议纪要\n"
    "• *事故 SEV2 故障描述* / */incident*：宣布事故（会为它建一个群）；在该群里 *事故 拉人 @某人* 拉人，*事故 解决* 结束；"
    "*事故 统计 30* / */incident stats 30*：近 30 天的事故数据（不写天数则为 90 天）\n"
    "• *我的* / */home*：私聊发你的个人页：等你签字的需求、你未完成的行动项、你的会议和待记录的纪要，附带操作按钮\n"
    "• *周报* / */digest*：本群周报（现在发一份，之后每周一发）\n"
    "• *语言 中文* / */lang en*、*时区 Asia/Tokyo* 或 *设置*：我对你使用的语言和时区；"
    "在群里 *语言 本群 中文* / */lang group en* 设置本群的语言（*语言 本群 自动*：按各人的飞书语言显示）\n"
    "表单以卡片形式私聊发给你；填好后记录会发到你输入命令的群里。",
    "feishu.form_sent": "表单已私聊发给你。",
    "feishu.in_a_group": "请在记录所属的群里输入（在群里 @我）：记录会发到那个群。",
    "feishu.saved": "已保存，马上发出。",
    "feishu.done": "好了。",
    "feishu.lang_set": "以后我用中文给你写消息。",
    "feishu.lang_usage": "输入 *语言 中文* 或 */lang en*；在群里输入 *语言 本群 中文* 或 */lang group auto* 设置本群的语言。",
    "feishu.group_lang_set": "{user} 设置了本群的语言：今后本群的卡片使用{language}。",
    "feishu.group_lang_auto": "{user} 取消了本群的语言设置：本群的卡片按每位读者自己的飞书语言显示。",
    "feishu.not_in_chat": "我无法在那个群里发消息：请先把 coordbot 加进群（群设置 → 群机器人），再试一次。",
    "feishu.unknown": "无法识别“{text}”。输入 *帮助*（或 *help*）查看我能做什么。",
    "feishu.incident_chat": "{code} {title}",
    "feishu.incident_who": "请用 @ 指明要拉谁：*事故 拉人 @李雷*（或 *事故 角色 沟通 @李雷* 指定对外沟通负责人）。",
    "feishu.incident_opened": "{code} 由 {declarer} 宣布：事故群已建立，这张卡片已置顶。",
    "feishu.incident_elsewhere": "已宣布 {code}（{severity}）：{title}。响应人员的事故群已建立。",
    "feishu.digest_on": "本群将每周收到周报（{schedule}）；这是本周的。",
    "feishu.no_digest_in_dm": "周报属于群：请在群里 @我 并输入 *周报*。",
    "feishu.hello": "👋 你好！我帮团队推进签字确认、会议、行动项和事故处理。输入 *帮助* 开始。",
    "feishu.pinned_timeline": "{author} 在事故群置顶：{text}",
    "feishu.tz_set": "以后给你显示的时间按 {tz}。",
    "feishu.tz_usage": "你的时间按 {tz} 显示。输入 *时区 Asia/Tokyo*（或 */tz Europe/Berlin*）可以修改。",
    "feishu.settings.title": "我的 coordbot 设置",
    "feishu.settings.intro": "飞书不向 coordbot 提供你的语言和时区：请在这里选择。",
    "feishu.settings.lang": "语言",
    "feishu.settings.tz": "时区",
    "feishu.settings.save": "保存",
    "feishu.settings.saved": "已保存。给你显示的时间按 {tz}。",
    "feishu.form.chat": "群",
    "feishu.card.title": "coordbot",
    "feishu.home.title": "我的 coordbot",
    "feishu.home.as_of": "截至 {when}",
    "feishu.home.summary": "待签字 {sign} · 行动项 {actions} · 逾期 {late}",
    "feishu.home.hint": "随时私聊我输入 *我的*（或 */home*）查看最新的个人页。这里的按钮与记录卡片上的按钮作用相同。",
    "feishu.stats.scope": "本组织近 {days} 天",
}
