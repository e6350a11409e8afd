"""Both languages are whole: every interface string has its Chinese, and what runs is what was written."""

import gettext
from pathlib import Path

import polib
import pytest
from django.urls import reverse

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_string_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(LOCALE / "django.po"))
    assert catalogue.untranslated_entries() == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert catalogue.percent_translated() == 100


def test_the_compiled_catalogue_matches_its_source():
    # A .po edited without `make messages` would leave the portal showing the old Chinese.
    source = polib.pofile(str(LOCALE / "django.po"))
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in source.translated_entries():
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            assert compiled._catalog[(key, 0)] == entry.msgstr_plural[0], entry.msgid
        else:
            assert compiled._catalog[key] == entry.msgstr, entry.msgid


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, english, chinese",
    [
        ("schools:home", "Industry schools", "行业学院"),
        ("enrolment:programme_list", "Programmes", "专业"),
        ("schools:centre_list", "Learning centres", "学习中心"),
    ],
)
def test_pages_speak_the_language_asked_for(client, name, english, chinese):
    zh = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    en = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans">' in zh and chinese in zh
    assert '<html lang="en">' in en and english in en
