"""The Wireshark dissector (filelab.lua) and a tshark-based capture summary (summary.py)."""
