"""What to switch on in Feishu's developer console for coordbot (`coordbot feishu-setup`)."""

from __future__ import annotations

from handlers.feishu.intake import CARD_ACTION, EVENT_TYPES, EVENTS_PATH

# (scope, what coordbot does with it); the console's 权限管理 page searches by either
SCOPES: tuple[tuple[str, str, str], ...] = (
    ("im:message", "read and send messages", "读取与发送消息"),
    (
        "im:message:send_as_bot",
        "send as the bot (cards, reminders, direct messages)",
        "以应用身份发消息（卡片、提醒、私聊）",
    ),
    ("im:message.group_at_msg:readonly", "hear messages that @mention it in groups", "接收群聊中 @机器人 的消息"),
    ("im:message.p2p_msg:readonly", "hear direct messages to it", "接收用户发给机器人的单聊消息"),
    ("im:message:update", "update its cards in place (signatures, status)", "更新已发送的卡片（签字、状态）"),
    ("im:message.reactions:read", "see ✅ reactions on its cards", "读取消息表情回复（✅ 签字）"),
    ("im:message.pins:write_only", "pin an incident's summary card", "置顶事故摘要卡片"),
    ("im:message.pins:read", "read an incident chat's pinned messages", "读取事故群的置顶消息"),
    ("im:chat", "create an incident's group chat and add people", "创建事故群并拉人"),
    ("im:chat.members:read", "see who is in a group (who may see a record)", "读取群成员（谁能看到记录）"),
    ("contact:user.base:readonly", "show people's names", "读取用户姓名"),
)
# a sheet or an item belongs to a group, so they start from a group (@coordbot 需求); the menu is the bot's own chat
MENU = (("home", "我的 / My page"), ("incident", "事故 / Declare an incident"), ("help", "帮助 / Help"))


STEPS = {
    "en": {
        "intro": "Create a custom app in Feishu's developer console (open.feishu.cn/app, or open.larksuite.com/app).",
        "bot": "1. Features → add Bot.",
        "scopes": "2. Permissions & Scopes → add:",
        "http": "3. Events & Callbacks → Event configuration: request URL {url}\n"
        "   Callback configuration: card callback URL, the same {url}\n"
        "   Encryption: set an Encrypt Key and a Verification Token, and put them in FEISHU_ENCRYPT_KEY and\n"
        "   FEISHU_VERIFICATION_TOKEN (coordbot refuses callbacks it cannot verify)",
        "ws": "3. Events & Callbacks → receive events, and card callbacks, through the long connection (no public URL)",
        "events": "   Subscribe to these events:",
        "card": "card callback",
        "menu": "4. Bot → custom menu (optional), with these event keys:",
        "credentials": "5. Credentials: FEISHU_APP_ID and FEISHU_APP_SECRET; for Lark, FEISHU_DOMAIN=lark.",
        "publish": "6. Create a version, publish it, and add the bot to the groups that use it. Times are shown in\n"
        "   COORDBOT_TZ (Feishu does not tell a bot its users' timezones).",
        "placeholder": "https://<your host>",
        "store_intro": "Create a store app (for the App Directory) in Feishu's developer console, then:",
        "store": "   A store app receives its events by HTTP callback only; Feishu pushes it an app_ticket about\n"
        "   hourly at the same URL, which coordbot keeps in its database (FEISHU_APP_TYPE=store).",
        "store_publish": "6. Publish it to the App Directory; each organization that installs it is a workspace of\n"
        "   its own (feishu:<tenant_key>), with its own numbering and data.",
    },
    "zh": {
        "intro": "在飞书开放平台（open.feishu.cn/app，国际版 open.larksuite.com/app）创建企业自建应用，然后：",
        "bot": "1. 添加应用能力 → 机器人。",
        "scopes": "2. 权限管理 → 开通以下权限：",
        "http": "3. 事件与回调 → 事件配置：请求地址 {url}\n"
        "   回调配置：卡片回调地址同为 {url}\n"
        "   加密策略：设置 Encrypt Key 与 Verification Token，分别写入 FEISHU_ENCRYPT_KEY 与\n"
        "   FEISHU_VERIFICATION_TOKEN（coordbot 拒绝无法验证的回调）",
        "ws": "3. 事件与回调 → 事件与卡片回调都选择“使用长连接接收”（无需公网地址）",
        "events": "   订阅以下事件：",
        "card": "卡片回调",
        "menu": "4. 机器人 → 自定义菜单（可选），事件 key：",
        "credentials": "5. 凭证与基础信息：App ID、App Secret 写入 FEISHU_APP_ID、FEISHU_APP_SECRET；\n"
        "   国际版设 FEISHU_DOMAIN=lark。",
        "publish": "6. 创建版本并发布，把机器人拉进要用的群。时间按 COORDBOT_TZ 显示（飞书不向机器人提供用户时区）。",
        "placeholder": "https://<你的域名>",
        "store_intro": "在飞书开放平台创建商店应用（上架应用目录），然后：",
        "store": "   商店应用只能通过 HTTP 回调接收事件；飞书约每小时向同一地址推送 app_ticket，\n"
        "   coordbot 把它存入数据库（FEISHU_APP_TYPE=store）。",
        "store_publish": "6. 发布到应用目录；每个安装它的企业都是一个独立的工作区（feishu:<tenant_key>），\n"
        "   编号与数据各自独立。",
    },
}


def setup_text(lang: str, *, url: str = "", events: str = "auto", store: bool = False) -> str:
    """The console checklist, in English or Chinese; `url`: where this deployment is reached from Feishu (HTTP
    callbacks; without one, and unless FEISHU_EVENTS=http, the long connection); `store`: a store app installed
    by many organizations (HTTP callbacks only)."""
    steps = STEPS["zh" if lang == "zh" else "en"]
    callback = (url.rstrip("/") or steps["placeholder"]) + EVENTS_PATH
    http = store or events == "http" or (events == "auto" and bool(url))
    lines = [steps["store_intro" if store else "intro"], "", steps["bot"], steps["scopes"]]
    lines += [f"   - {scope}  ({zh_what if lang == 'zh' else what})" for scope, what, zh_what in SCOPES]
    lines += [steps["http"].format(url=callback) if http else steps["ws"]]
    lines += [steps["store"]] if store else []
    lines += [steps["events"]]
    lines += [f"   - {event}" for event in EVENT_TYPES]
    lines += [f"   - {CARD_ACTION}  ({steps['card']})", steps["menu"]]
    lines += [f"   - {key}: {label}" for key, label in MENU]
    lines += [steps["credentials"], steps["store_publish" if store else "publish"]]
    return "\n".join(lines)
