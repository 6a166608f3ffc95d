"""Tests of transfer/i18n.py and its catalogues (transfer/locales/)."""

import re
import string
import unittest

from transfer import i18n


def _fields(template):
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class CatalogueTest(unittest.TestCase):
    """Every language has every message, with the same fields."""

    def test_same_keys_in_every_language(self):
        reference = i18n.catalogue(i18n.DEFAULT)
        for lang in i18n.LANGUAGES:
            cat = i18n.catalogue(lang)
            self.assertEqual(sorted(set(reference) - set(cat)), [], "missing in {}".format(lang))
            self.assertEqual(sorted(set(cat) - set(reference)), [], "only in {}".format(lang))

    def test_same_fields_in_every_language(self):
        reference = i18n.catalogue(i18n.DEFAULT)
        for lang in i18n.LANGUAGES:
            cat = i18n.catalogue(lang)
            for key, text in reference.items():
                self.assertEqual(_fields(cat[key]), _fields(text), "{} {}".format(lang, key))

    def test_parity_check_fails_on_a_missing_message(self):
        # the check above must be able to fail: drop one Spanish message and compare again
        es = dict(i18n.catalogue("es"))
        es.pop("report.title")
        self.assertNotEqual(set(es), set(i18n.catalogue("en")))

    def test_spanish_uses_the_guide_terms(self):
        es = i18n.catalogue("es")
        text = " ".join(es.values()).lower()
        for term in ("prueba", "cliente", "archivo", "tiempo de transferencia", "tasa de transferencia",
                     "exitosa", "fallida"):
            self.assertIn(term, text)


class ChooseTest(unittest.TestCase):
    """--lang, then LC_ALL / LC_MESSAGES / LANG, then Windows, then English."""

    def test_flag_wins(self):
        self.assertEqual(i18n.choose("es", environ={"LANG": "en_US.UTF-8"}), "es")
        self.assertEqual(i18n.choose("en", environ={"LANG": "es_CO.UTF-8"}), "en")
        with self.assertRaises(ValueError):
            i18n.choose("fr")

    def test_environment_order(self):
        self.assertEqual(i18n.choose(environ={"LANG": "es_CO.UTF-8"}, platform="linux"), "es")
        self.assertEqual(i18n.choose(environ={"LC_ALL": "en_GB.UTF-8", "LANG": "es_ES.UTF-8"},
                                     platform="linux"), "en")
        self.assertEqual(i18n.choose(environ={"LC_MESSAGES": "es_MX", "LANG": "en_US"}, platform="linux"), "es")
        self.assertEqual(i18n.choose(environ={"LANG": "C.UTF-8"}, platform="linux"), "en")
        self.assertEqual(i18n.choose(environ={"LANG": "fr_FR.UTF-8"}, platform="linux"), "en")
        self.assertEqual(i18n.choose(environ={}, platform="linux"), "en")

    def test_windows_without_kernel32_falls_back(self):
        # on this machine ctypes has no windll: the guarded call answers None, English follows
        self.assertEqual(i18n.choose(environ={}, platform="win32"), "en")


class TranslateTest(unittest.TestCase):
    """tr(), translator(), number()."""

    def tearDown(self):
        i18n.set_language("en")

    def test_tr_formats_and_falls_back(self):
        tr = i18n.translator("es")
        self.assertEqual(tr("prueba", n=3), "Prueba 3")
        self.assertEqual(i18n.translator("en")("prueba", n=3), "Test 3")
        self.assertEqual(tr("no.such.key"), "no.such.key")
        i18n.set_language("es")
        self.assertEqual(i18n.tr("clients.many", n=5), "5 clientes")

    def test_numbers(self):
        self.assertEqual(i18n.number(1234567.891, 2, "en"), "1,234,567.89")
        self.assertEqual(i18n.number(1234567.891, 2, "es"), "1.234.567,89")
        self.assertEqual(i18n.number(0.5, 1, "es"), "0,5")
        self.assertTrue(re.match(r"\A1\.000\Z", i18n.number(1000, 0, "es")))


if __name__ == "__main__":
    unittest.main()
