"""The portal in its users' languages, through the app: every page of an account that reads Burmese
is in Burmese (the chrome, the forms, the words for stored codes, the report's labels from the
bot's catalogs, the flashes and the error pages), the language picked on the account page switches
every page, the login page follows the browser, dates are in the configured time zone and the
page's language, and what programs read (CSV files, the API) stays English."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from sqlalchemy import select

from storage.models import User
from tests.portal.conftest import PortalUser
from tests.portal.test_changes import needs, queue  # noqa: F401 (fixtures)

MYANMAR = re.compile(r"[\u1000-\u109f]")
# Words the Burmese pages keep as they are: names of things people know them by, codes, formats.
KEPT = {"PSEA", "CSV", "TOTP", "P-code", "Portal", "portal", "browser", "session", "authenticator", "UTC",
        "YYYY-MM", "English", "Community", "Feedback"}


def visible(response) -> str:
    """What a person reads on the page: its text and its labels (aria-label, placeholder, title)."""
    page = response.get_data(as_text=True)
    labels = " ".join(re.findall(r'(?:aria-label|placeholder|title)="([^"]*)"', page))
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page) + " " + labels))


def latin_words(text: str, *data: str) -> set[str]:
    """Latin-script words left on a page once the data it shows (emails, case references, names
    given) and the words kept on purpose are taken out: untranslated strings."""
    text = re.sub(r"\S+@\S+|\bR-\w+", " ", text)
    for shown in data:
        text = text.replace(shown, " ")
    return set(re.findall(r"[A-Za-z][A-Za-z'-]*", text)) - KEPT


def reads_burmese(app, email: str) -> None:
    with app.extensions["intake"].sessions() as db:
        db.execute(select(User).where(User.email == email)).scalar_one().language = "my"
        db.commit()


def logged_in(app, world, name: str) -> PortalUser:
    """A browser of its own, logged in as the world's account `name`, which reads Burmese."""
    reads_burmese(app, world.emails[name])
    person = PortalUser(app.test_client())
    person.login(world.emails[name])
    return person


def burmese_page(person: PortalUser, path: str, *english: str, status: int = 200) -> str:
    """The page at `path`: in Burmese (`<html lang="my">`, Myanmar script), with none of `english`."""
    response = person.client.get(path)
    text = visible(response)
    assert response.status_code == status, path
    assert '<html lang="my">' in response.get_data(as_text=True) and MYANMAR.search(text), path
    assert [words for words in english if words in text] == [], path
    return text


# Every page shares the chrome: the title's suffix, the skip link, the navigation, the role, log out.
CHROME = ("Skip to content", "Log out", "Your account", " referrals", "(focal point)")


def test_the_pages_of_a_focal_point_who_reads_burmese(app, world):
    save = logged_in(app, world, "save")
    case_ref = world.case_refs["SAVE"][1]
    listed = burmese_page(save, "/portal/", *CHROME, "Referrals for", "Case reference", "Urgent only",
                          "Overdue only", "Export as CSV", "newest first", "Acknowledge by", "Received", "Nov 2026")
    assert latin_words(listed, "SAVE organisation") == set()
    assert "လွှဲပြောင်းချက်များ" in listed and "နိုဝင်ဘာ" in listed  # the month, in Burmese
    opened = burmese_page(save, f"/portal/referrals/{case_ref}", *CHROME, "All referrals", "Acknowledge receipt",
                          "The report", "What happened", "Where it happened", "Messages with the reporter",
                          "Timeline and notes", "Referral received", "Routing details", "Not known yet",
                          "Sent to the organisation named in the report", "Internal note", "Refer on")
    account = world.accounts[case_ref]
    assert account.split()[0] in opened  # what the reporter wrote is shown as it is
    assert latin_words(opened, account, "SAVE organisation", "CARE organisation", "PSEAN organisation",
                       "SAVE", "CARE", "PSEAN", "Yangon", "MMR013017") == set()
    assert "ဗိုလ်တထောင်" in opened  # the township's Burmese name
    access = burmese_page(save, "/portal/access", *CHROME, "Colleagues who can hold the key", "Give access",
                          "Last login", "Never")
    assert latin_words(access, "SAVE organisation", "SAVE") == set()
    page = burmese_page(save, "/portal/account", *CHROME, "Change your password", "Security code (TOTP)",
                        "Save the language", "As my browser asks", "Last code accepted", "Focal point")
    assert latin_words(page, "SAVE organisation", "SAVE") == set()


def test_a_focal_point_without_the_key_and_the_refusals_read_burmese(app, world):
    newcomer = logged_in(app, world, "save_new")
    burmese_page(newcomer, "/portal/", "You can see the list, but not open referrals yet")
    burmese_page(newcomer, f"/portal/referrals/{world.case_refs['SAVE'][0]}", "You cannot open referrals yet",
                 "Back to the referrals", status=403)
    refused = burmese_page(newcomer, "/portal/dashboard", "Not allowed", "Your role", "the dashboard",
                           "Go to the start page", status=403)
    assert "သင့်အခန်းကဏ္ဍ (ဆက်သွယ်ရေး တာဝန်ခံ) ဖြင့် ဒက်ရှ်ဘုတ် သို့ ဝင်ခွင့် မရှိပါ။" in refused
    missing = burmese_page(newcomer, "/portal/referrals/R-NOSUCH", "Not found", "There is nothing here", status=404)
    assert latin_words(missing, "SAVE") == set()
    assert latin_words(burmese_page(newcomer, "/portal/?month=November", "Bad request", status=400)) == set()


def test_the_pages_of_caseworkers_coordinators_and_admins_read_burmese(app, world, needs):
    caseworker = logged_in(app, world, "caseworker")
    changes = burmese_page(caseworker, "/portal/changes", "Changes to check", "changes waiting", "Tick",
                           "Approve ticked changes", "Reject ticked changes", "This cannot be undone",
                           "Phone number", "Education", "Specific needs", "in their words", "by SMS", "Not recorded",
                           "(caseworker)")
    assert "High school" not in changes  # an education code in the bot's Burmese words
    needs_page = burmese_page(caseworker, "/portal/needs?month=2026-11", "Who needs what", "Need group",
                              "Download as CSV", "No township", "Total", "Disability", "hidden")
    assert latin_words(needs_page, "Botahtaung", "Hpa-An") == set()
    coordinator = logged_in(app, world, "coord")
    dashboard = burmese_page(coordinator, "/portal/dashboard", "Dashboard", "By organisation", "By status",
                             "Median time to acknowledge", "The PSEA Network's monthly summary", "Received",
                             "Not known yet", "(coordinator)")
    assert latin_words(dashboard, "SAVE", "CARE", "PSEAN", "Yangon", "Kayin") == set()  # state names: data
    admin = logged_in(app, world, "admin")
    accounts = burmese_page(admin, "/portal/admin/", "Add an account", "E-mail address", "Focal point",
                            "Coordinator", "Caseworker", "Holds it", "This is you", "Reset", "Disable", "(admin)")
    assert latin_words(accounts, "SAVE organisation", "CARE organisation", "PSEAN organisation",
                       "SAVE", "CARE", "PSEAN", "flask users grant") == set()
    burmese_page(admin, "/portal/admin/outbox", "Messages the outbox gave up on", "No message has failed")
    burmese_page(admin, "/portal/admin/audit", "Audit log", "The chain holds", "newest first")
    burmese_page(admin, "/portal/admin/directory", "Directory", "Download the directory as CSV", "Reached by")


def test_flashes_and_form_errors_read_burmese(app, world):
    save = logged_in(app, world, "save")
    case_ref = world.case_refs["SAVE"][0]
    save.post_form(f"/portal/referrals/{case_ref}/acknowledge", token_from=f"/portal/referrals/{case_ref}")
    assert f"လွှဲပြောင်းချက် {case_ref} ကို လက်ခံကြောင်း အတည်ပြုပြီးပါပြီ။" in visible(
        save.client.get(f"/portal/referrals/{case_ref}"))
    empty = save.post_form(f"/portal/referrals/{case_ref}/message", {"message": " "},
                           token_from=f"/portal/referrals/{case_ref}")
    assert empty.status_code == 422 and "စာ ဗလာဖြစ်နေပါသည်။" in visible(empty)
    save.post_form("/portal/logout")
    assert "သင် ထွက်ပြီးပါပြီ။" in visible(save.client.get("/portal/login"))  # the language of the last page


def test_choosing_the_language_on_the_account_page_switches_every_page(app, client, world, portal_user):
    portal_user.login(world.emails["save"])
    english = {"Accept-Language": "en"}
    assert "Referrals for SAVE organisation" in visible(client.get("/portal/", headers=english))
    saved = portal_user.post_form("/portal/account/language", {"language": "my"}, token_from="/portal/account")
    assert saved.status_code == 302
    account = visible(client.get("/portal/account", headers=english))
    assert "portal ၏ ဘာသာစကားကို သိမ်းပြီးပါပြီ။" in account  # said in the language just chosen
    listed = client.get("/portal/", headers=english)
    assert '<html lang="my">' in listed.get_data(as_text=True)
    assert "SAVE organisation အတွက် လွှဲပြောင်းချက်များ" in visible(listed)
    portal_user.post_form("/portal/account/language", {"language": ""}, token_from="/portal/account")
    assert "Referrals for SAVE organisation" in visible(client.get("/portal/", headers=english))
    assert "SAVE organisation အတွက် လွှဲပြောင်းချက်များ" in visible(
        client.get("/portal/", headers={"Accept-Language": "my, en;q=0.5"}))  # the browser's choice again


@pytest.mark.parametrize("asked, lang", [("my", "my"), ("my-MM,my;q=0.9", "my"), ("en-GB,en;q=0.9", "en"),
                                         ("fr, my;q=0.3", "my"), ("fr", "en"), ("", "en")])
def test_the_login_page_follows_the_browser(client, asked, lang):
    page = client.get("/portal/login", headers={"Accept-Language": asked} if asked else {})
    text = visible(page)
    assert f'<html lang="{lang}">' in page.get_data(as_text=True)
    if lang == "my":
        assert "ဝင်ရောက်ရန်" in text and "Log in" not in text and "Password" not in text
        assert latin_words(text) == set()
    else:
        assert "Log in" in text and "Password" in text and not MYANMAR.search(text)


def test_dates_are_in_the_configured_time_zone_and_the_pages_language(make_app, world):
    app = make_app(TIMEZONE="Asia/Yangon")  # the same database as the world's
    # Filed at the test clock's 09:00 UTC: 15:30 in Yangon, and due 24 hours later.
    english = PortalUser(app.test_client())
    english.login(world.emails["care"])
    opened = visible(english.client.get(f"/portal/referrals/{world.case_refs['CARE'][0]}"))
    assert "24 Nov 2026, 15:30 (Asia/Yangon)" in opened and "25 Nov 2026, 15:30 (Asia/Yangon)" in opened
    assert "(UTC)" not in opened
    reads_burmese(app, world.emails["save"])
    burmese = PortalUser(app.test_client())
    burmese.login(world.emails["save"])
    listed = visible(burmese.client.get("/portal/"))
    assert "2026 နိုဝင်ဘာ 24 15:30 (Asia/Yangon)" in listed and "2026 နိုဝင်ဘာ 25 15:30 (Asia/Yangon)" in listed
    assert "(UTC)" not in listed


def test_csv_files_and_the_api_stay_english(app, world, needs):
    coordinator = logged_in(app, world, "coord")
    table = list(csv.reader(io.StringIO(coordinator.client.get("/portal/needs.csv").get_data(as_text=True))))
    assert table[0][:2] == ["Need group", "Code"] and table[0][-2:] == ["No township", "Total"]
    assert {line[1]: line[0] for line in table[1:]}["DS"] == "Disability"
    figures = coordinator.client.get("/portal/dashboard.csv").get_data(as_text=True)
    assert "Not known yet" in figures and not MYANMAR.search(figures)
    counts = coordinator.client.get("/api/v1/counts", headers={"Accept-Language": "my"}).get_json()
    assert "Not known yet" in {row["name"] for row in counts["breakdowns"]["category"]}
    refused = coordinator.client.get("/api/v1/counts?month=November", headers={"Accept-Language": "my"})
    assert refused.status_code == 400 and refused.get_json()["error"].startswith("Give “month” as a month")
