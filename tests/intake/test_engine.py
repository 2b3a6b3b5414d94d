"""The engine on its own: pure function, real catalogs, no database, no Flask."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from i18n.catalogs import Catalogs
from i18n.render import Renderer
from i18n.text import Text
from intake import engine
from intake.engine import Context, Ended
from intake.flows import FLOWS, KEYWORDS, LANGUAGE, MENU, Choice, Flow, Step
from intake.messages import Inbound, Media
from intake.state import State

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
CATALOGS = Catalogs()


def make_context(languages=("en", "my"), **kwargs) -> Context:
    return Context(languages=tuple(languages), translate=CATALOGS.translate,
                   language_names={"en": "English", "my": "မြန်မာ"}, **kwargs)


class Chat:
    """Plays a conversation against the pure engine, keeping the state between turns."""

    def __init__(self, ctx: Context | None = None):
        self.ctx = ctx or make_context()
        self.renderer = Renderer(CATALOGS, self.ctx.languages, KEYWORDS)
        self.state: State | None = None
        self.now = T0
        self.result = None

    def send(self, text: str, media: tuple[Media, ...] = (), after: timedelta = timedelta(seconds=20)) -> str:
        self.now += after
        inbound = Inbound("sms", "k" * 64, text, self.now, media=media)
        self.result = engine.step(self.state, inbound, self.ctx)
        self.state = self.result.state
        rendered = [self.renderer.render(self.result.lang, o) for o in self.result.replies]
        return "\n".join("\n".join(r.paragraphs + tuple(f"{n}. {l}" for n, l in r.options)) for r in rendered)


@pytest.fixture
def chat() -> Chat:
    return Chat()


def at_menu(chat: Chat, lang_number: str = "1") -> Chat:
    chat.send("hi")
    chat.send(lang_number)
    assert chat.state.position == MENU
    return chat


def test_first_message_asks_for_language_in_the_default_and_english(chat):
    reply = chat.send("hello")
    assert chat.state.position == LANGUAGE
    assert reply == "Choose your language:\n1. English\n2. မြန်မာ"
    burmese_first = Chat(make_context(languages=("my", "en")))
    assert burmese_first.send("hello") == "ဘာသာစကား ရွေးပါ -\nChoose your language:\n1. မြန်မာ\n2. English"


def test_single_language_goes_straight_to_menu():
    chat = Chat(make_context(languages=("en",)))
    reply = chat.send("hello")
    assert chat.state.position == MENU and chat.state.lang == "en"
    assert "What would you like to do?" in reply


@pytest.mark.parametrize("answer", ["2", "၂", " 2. ", "မြန်မာ", "my"])
def test_language_chosen_by_number_in_any_script_or_by_name(chat, answer):
    chat.send("hi")
    reply = chat.send(answer)
    assert chat.state.lang == "my"
    assert "ဘာလုပ်လိုပါသလဲ" in reply


@pytest.mark.parametrize("answer", ["1", "report", "Report a concern", "REPORT!"])
def test_menu_choice_by_number_label_or_accepted_word(chat, answer):
    at_menu(chat)
    reply = chat.send(answer)
    assert "not available yet" in reply
    assert chat.state.position == MENU  # the branch says so and returns to the menu


def test_burmese_accepted_answer_selects_choice(chat):
    at_menu(chat, "2")
    reply = chat.send("တိုင်ကြား")
    assert "ဒီဝန်ဆောင်မှု မရသေးပါ" in reply


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "9", "x" * 1600])
def test_invalid_answer_reprompts_with_reason_and_keeps_position(chat, text):
    at_menu(chat)
    reply = chat.send(text)
    assert reply.startswith("Please reply with one of the numbers below.")
    assert "1. Report a concern" in reply
    assert chat.state.position == MENU and chat.state.invalid == 1


def test_three_invalid_answers_in_a_row_offer_the_menu(chat):
    at_menu(chat)
    assert "MENU" not in chat.send("a")
    assert "MENU" not in chat.send("b")
    third = chat.send("c")
    assert "Need help? Send MENU for the main menu or HELP for help." in third
    assert chat.state.invalid == 3
    chat.send("1")
    assert chat.state.invalid == 0  # a valid answer resets the count


@pytest.mark.parametrize("lang_number, words", [
    ("1", {"menu": "menu", "back": "back", "help": "help", "language": "language", "exit": "exit"}),
    ("2", {"menu": "မီနူး", "back": "နောက်သို့", "help": "အကူအညီ", "language": "ဘာသာစကား", "exit": "ထွက်"}),
])
def test_every_keyword_works_in_every_shipped_language(lang_number, words):
    for name, word in words.items():
        chat = at_menu(Chat(), lang_number)
        chat.send("4")  # leave the menu so MENU and BACK have somewhere to return from
        assert chat.state.position == LANGUAGE
        chat.send(word)
        expected = {"menu": MENU, "back": MENU, "help": LANGUAGE, "language": LANGUAGE, "exit": None}[name]
        assert chat.state.position == expected, (name, word)


def test_english_keywords_work_whatever_the_chosen_language(chat):
    at_menu(chat, "2")
    reply = chat.send("HELP")
    assert "မီနူး" in reply  # help is answered in Burmese, naming the Burmese keywords


def test_help_names_the_keywords_and_repeats_the_question(chat):
    at_menu(chat)
    reply = chat.send("help")
    assert reply.startswith("MENU: main menu. BACK: go back. LANGUAGE: change language. "
                            "EXIT: end and delete this chat.")
    assert reply.endswith("4. Change language")


def test_quick_exit_ends_at_once_and_forgets_the_draft_and_the_language(chat):
    at_menu(chat, "2")
    chat.state.draft = {"what": "something private"}
    reply = chat.send("exit")
    assert reply == "ပြီးပါပြီ။ ဒီမှာ ပြောထားတာတွေကို ဖျက်လိုက်ပါပြီ။"  # still said in their language
    assert chat.state.position is None and chat.state.draft == {} and chat.state.history == []
    assert chat.state.lang is None  # the next person holding the phone cannot tell which it was
    assert chat.state == engine.State(last_active=None)
    assert any(isinstance(effect, Ended) for effect in chat.result.effects)
    assert chat.send("hello").startswith("Choose your language:")  # next message: a first contact


def test_quick_exit_works_before_any_conversation(chat):
    # No language chosen yet: the confirmation is in the default language (and English).
    assert chat.send("quit") == "Ended. This conversation was deleted."
    assert chat.state.position is None


def test_inactivity_timeout_starts_fresh_and_drops_the_draft(chat):
    at_menu(chat)
    chat.send("4")  # into the language step
    chat.state.draft = {"what": "stale"}
    reply = chat.send("2", after=timedelta(minutes=31))
    assert reply.startswith("We started again because there was no reply for a while.")
    assert chat.state.position == MENU and chat.state.draft == {}
    assert chat.state.lang == "en"  # the late "2" was not taken as an answer to the old question


def test_no_timeout_within_the_window(chat):
    at_menu(chat)
    chat.send("4")
    chat.send("2", after=timedelta(minutes=29))
    assert chat.state.lang == "my"


def test_timeout_is_configurable():
    chat = Chat(make_context(timeout=timedelta(minutes=5)))
    at_menu(chat)
    assert chat.send("1", after=timedelta(minutes=6)).startswith("We started again")


def test_language_change_mid_flow_resumes_where_the_person_was():
    flows = dict(FLOWS)
    flows["test"] = Flow("test", (
        Step("first", Text("First question?"), validator="free_text", store="first", goto="test.second"),
        Step("second", Text("Second question?"), validator="free_text", store="second", goto=MENU),
    ))
    menu = FLOWS["menu"].start
    flows["menu"] = Flow("menu", (Step("main", menu.prompt,
                                       choices=(*menu.choices, Choice("test", Text("Test"), "test")),),))
    chat = at_menu(Chat(make_context(flows=flows)))  # a flow of the test's own, given as data
    chat.send("5")
    chat.send("my answer")
    assert chat.state.position == "test.second"
    chat.send("language")
    assert chat.state.position == LANGUAGE
    reply = chat.send("2")
    assert chat.state.position == "test.second" and chat.state.lang == "my"
    assert reply.endswith("Second question?")  # untranslated test prompt falls back to English
    assert chat.state.draft == {"first": "my answer"}
    chat.send("back")
    assert chat.state.position == "test.first"
    reply = chat.send("🙂")
    assert reply.startswith("အဖြေကို စာနဲ့ ရိုက်ပါ။")  # emoji-only free text is refused, in Burmese
    assert chat.state.position == "test.first"


def test_back_from_the_language_step_returns_without_changing_language(chat):
    at_menu(chat)
    chat.send("4")
    reply = chat.send("back")
    assert chat.state.position == MENU and chat.state.lang == "en"
    assert "What would you like to do?" in reply


def test_media_gets_a_text_only_answer_and_does_not_advance(chat):
    at_menu(chat)
    reply = chat.send("", media=(Media("photo", "image/jpeg", problem="unsupported"),))
    assert reply.startswith("We can only read text. Please type your answer.")
    assert chat.state.position == MENU and chat.state.invalid == 0


def test_withdrawn_language_is_asked_again():
    chat = Chat()
    at_menu(chat, "2")
    chat.ctx = make_context(languages=("en",))
    chat.renderer = Renderer(CATALOGS, chat.ctx.languages, KEYWORDS)
    reply = chat.send("1")
    assert chat.state.lang == "en" and chat.state.position == MENU
    assert reply.startswith("Community Feedback. What would you like to do?")


def test_step_does_not_mutate_the_callers_state(chat):
    at_menu(chat)
    before = chat.state.to_json()
    engine.step(chat.state, Inbound("sms", "k", "4", T0 + timedelta(minutes=1)), chat.ctx)
    assert chat.state.to_json() == before


def test_state_round_trips_through_json(chat):
    at_menu(chat)
    chat.send("4")
    assert State.from_json(chat.state.to_json()) == chat.state


def test_keywords_do_not_collide_with_each_other():
    seen = {}
    for lang in CATALOGS.shipped:
        for name, text in KEYWORDS.items():
            for word in CATALOGS.translate(lang, text).split("|") + text.msgid.split("|"):
                assert seen.setdefault((lang, word.casefold()), name) == name, (lang, word)


class FakeDirectory:
    """The look-ups the report flow needs, over a fixed list."""

    available = True

    def match_organisation(self, text):
        return {"id": 7, "name": "Demo Relief Agency (DRA)"} if "dra" in text.lower() else None

    def match_township(self, text):
        if "sittwe" in text.lower():
            return {"pcode": "MMR012001", "state_pcode": "MMR012", "name_en": "Sittwe", "name_my": "စစ်တွေ"}
        return None

    def emergency_contacts(self, lang):
        return "Police: 199"

    def area_emergency_contacts(self, lang, areas):
        return "Police: 199\nRakhine line: 0000-12" if "MMR012" in areas else ""


def report_chat() -> Chat:
    chat = at_menu(Chat(make_context(directory=FakeDirectory(), receipt="482109375566")))
    chat.send("1")
    assert chat.state.position == "report.danger"
    return chat


def test_report_turns_are_marked_sensitive_and_ending_wipes():
    from intake.engine import SubmitReport, Wipe

    from tests.support.play import Lines, Player

    chat = Chat(make_context(directory=FakeDirectory(), receipt="482109375566"))
    player = Player(Lines(chat.send), organisation="DRA", account="it happened")
    player.play(until="danger")
    assert chat.result.replies_sensitive and chat.result.inbound_sensitive
    while player.position != "report.review":  # every question of the report answered
        player.move()
        assert chat.result.inbound_sensitive and chat.result.replies_sensitive
        assert not any(isinstance(e, Wipe) for e in chat.result.effects)
    assert chat.state.position == "report.review"
    reply = chat.send("1")
    assert reply.startswith("Thank you, it was sent. Receipt number: 4821 0937 5566.")
    assert chat.result.inbound_sensitive and not chat.result.replies_sensitive  # the receipt stays
    kinds = [type(e) for e in chat.result.effects]
    assert kinds == [SubmitReport, Wipe]
    submitted = chat.result.effects[0]
    assert submitted.receipt == "482109375566" and submitted.answers["account"] == ["it happened"]
    assert chat.state.position is None and chat.state.draft == {}


@pytest.mark.parametrize("ending", ["exit", "menu"])
def test_leaving_a_report_wipes(ending):
    from intake.engine import Wipe

    chat = report_chat()
    chat.send("2")
    chat.send(ending)
    assert Wipe() in chat.result.effects and not chat.result.replies_sensitive


def test_a_timed_out_report_wipes_too():
    from intake.engine import Wipe

    chat = report_chat()
    chat.send("2", after=timedelta(hours=1))
    assert Wipe() in chat.result.effects and chat.state.position == MENU


def test_changing_language_mid_report_is_not_the_end_of_it():
    from intake.engine import Wipe

    chat = report_chat()
    chat.send("language")
    assert chat.result.replies_sensitive and Wipe() not in chat.result.effects
    chat.send("2")
    assert chat.state.position == "report.danger" and chat.state.lang == "my"
    assert Wipe() not in chat.result.effects


def test_menu_turns_are_not_sensitive(chat):
    at_menu(chat)
    chat.send("help")
    assert not chat.result.inbound_sensitive and not chat.result.replies_sensitive and chat.result.effects == ()


def test_every_kind_of_effect_has_exactly_one_applier():
    from bot.channels.inbox import APPLIERS
    from intake.engine import Effect

    kinds = set(Effect.__subclasses__())
    assert kinds == set(APPLIERS) and len(kinds) == 8



def test_the_fake_directory_fits_the_engines_port():
    from intake.ports import Directory

    assert isinstance(FakeDirectory(), Directory) and not isinstance(object(), Directory)
