"""FakeSlack: the server, the workspace and every family of Web API methods in one object."""

from __future__ import annotations

from handlers.sandbox.slack_api.chat import ChatMethods
from handlers.sandbox.slack_api.conversations import ConversationMethods
from handlers.sandbox.slack_api.server import WebApiServer
from handlers.sandbox.slack_api.users import UserMethods
from handlers.sandbox.slack_api.workspace import APP_ID


class FakeSlack(WebApiServer, ChatMethods, ConversationMethods, UserMethods):
    """A recording, fault-injecting stand-in for https://slack.com/api/ on 127.0.0.1."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        team_id: str = "T0001",
        *,
        app_id: str = APP_ID,
        trigger_ttl: float | None = 3.0,
    ) -> None:
        """Create the fake; ``trigger_ttl`` is how long a trigger_id stays usable (None: forever)."""
        super().__init__(bot_token=bot_token, team_id=team_id, app_id=app_id, trigger_ttl=trigger_ttl)
        self._methods = {
            "auth.test": self._auth_test,
            "team.info": self._team_info,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.create": self._conversations_create,
            "conversations.invite": self._conversations_invite,
            "conversations.join": self._conversations_join,
            "pins.add": self._pins_add,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "reactions.get": self._reactions_get,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "apps.connections.open": self._apps_connections_open,
        }
