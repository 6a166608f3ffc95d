"""UDP file transfer: ``udp.server``, ``udp.client`` (raw and reliable modes, ping)."""
