"""TCP file transfer: ``tcp.server`` and ``tcp.client``."""
