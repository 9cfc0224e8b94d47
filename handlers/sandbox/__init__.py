"""A local Slack workspace for coordbot: the emulated Web API the tests run against, and `coordbot demo`.

- slack_api/: Slack's Web API as coordbot uses it, on 127.0.0.1, recording every call and checking every
  Block Kit payload as Slack does;
- driver.py: Slack's side of the Events API, interactivity and slash commands: payloads shaped like Slack's,
  signed with the signing secret, posted over HTTP to coordbot's `/slack/events`;
- company.py, clock.py, web.py, static/: the sandbox people use in the browser (a seeded company, a clock that
  only moves forward, the page and its JSON API); demo.py wires it to coordbot; walkthrough.py plays it in
  headless Chromium (the browser test and `coordbot demo --screenshots`).
"""
