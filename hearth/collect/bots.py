"""Telling people from robots by their User-Agent, before anything is stored.

Two kinds of non-human traffic, told apart because a workspace may want one of them:

- **automation**: a browser driven by a program (headless Chrome, Playwright, PhantomJS). Browser
  tests and synthetic monitoring are automation; a workspace can choose to count it
  (`allow_automation`), so that its own tests of the snippet show up.
- **bot**: crawlers, link previewers, HTTP libraries: the maintained pattern list of the
  `crawler-user-agents` package (1,500 patterns), never counted. A missing User-Agent is a bot.

Checks are cached per User-Agent string (they repeat heavily): an uncached check runs ~1,500
regular expressions, a cached one is a dictionary lookup.
"""

import re
from enum import StrEnum
from functools import lru_cache

import crawleruseragents

__all__ = ["Traffic", "classify"]


class Traffic(StrEnum):
    HUMAN = "human"
    AUTOMATION = "automation"
    BOT = "bot"


# What headless and driven browsers put in their User-Agent.
_AUTOMATION = re.compile(r"HeadlessChrome|Headless|PhantomJS|Playwright|Puppeteer", re.IGNORECASE)


@lru_cache(maxsize=65_536)
def classify(user_agent: str | None) -> Traffic:
    """Whether `user_agent` is a person's browser, a driven browser, or a bot."""
    if not user_agent or not user_agent.strip():
        return Traffic.BOT
    if _AUTOMATION.search(user_agent):
        return Traffic.AUTOMATION
    if crawleruseragents.is_crawler(user_agent):
        return Traffic.BOT
    return Traffic.HUMAN
