"""Unit and end-to-end tests of the file-transfer lab."""
