"""Message catalogues of transfer/i18n.py, one module per language (MESSAGES dict)."""
