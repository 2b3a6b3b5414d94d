"""The special places a flow's `goto` can name (the flows and the validators both use them)."""

RESUME = "@resume"
END = "@end"  # the conversation is over: the draft is dropped, the next message starts afresh
MENU = "menu.main"
LANGUAGE = "language.choose"
